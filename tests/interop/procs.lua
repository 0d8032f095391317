-- tests/interop/procs.lua — a real Tarantool 2.6 serving kharon's built-in
-- procedures (docs/procedures.md), so that the interoperability tests and the
-- scenarios can be run against both servers and compared.
--
--   LISTEN=127.0.0.1:3301 WORK_DIR=/tmp/x tarantool tests/interop/procs.lua
--
-- kharon's procedures are C procedures: their results form one port_c, which
-- net.box sees as ONE table {r1, ..., rN}. A Lua function returning
-- r1, ..., rN would give N values on the wire, so every function here returns
-- a single table, which puts the same bytes on the wire ({0x30: [[...]]}).
-- Pushes are box.session.push({i, payload}): one IPROTO_CHUNK with body
-- {0x30: [[i, payload]]}, as kharon sends. Errors use error(msg, 0) so the
-- text carries no "file:line:" prefix (the code differs: ER_PROC_LUA here,
-- ER_PROC_C in kharon; the tests compare texts only).
-- WORK_DIR (default: a fresh temp dir) receives the snapshot and xlogs; the
-- caller removes it. Lesson: lessons/en/06-kharon.md (pushes).

local fiber = require('fiber')
local fio = require('fio')

local listen = os.getenv('LISTEN') or '127.0.0.1:3301'
local work_dir = os.getenv('WORK_DIR') or fio.tempdir()

-- Listen only at the very end (below): a client that can connect must find
-- the grants and every procedure in place.
box.cfg{
    work_dir = work_dir,
    memtx_dir = work_dir,
    wal_dir = work_dir,
    wal_mode = 'none',
    log_level = 4,
    background = false,
}
box.schema.user.grant('guest', 'super', nil, nil, {if_not_exists = true})

local function check(name, ok, expected)
    if not ok then
        error(name .. ': expected ' .. expected, 0)
    end
end

local function is_count(v)
    return type(v) == 'number' and v >= 0 and v == math.floor(v)
end

function echo(...)
    return {...}
end

function push(n, payload)
    check('push', is_count(n) and payload ~= nil, 'n, payload')
    for i = 1, n do
        box.session.push({i, payload})
    end
    return {n}
end

function push_every(n, ms, payload)
    check('push_every', is_count(n) and is_count(ms) and payload ~= nil,
          'n, ms, payload')
    for i = 1, n do
        if i > 1 then
            fiber.sleep(ms / 1000)
        end
        box.session.push({i, payload})
    end
    return {n}
end

function sleep(ms)
    check('sleep', is_count(ms), 'ms')
    fiber.sleep(ms / 1000)
    return {true}
end

function fail(message)
    check('fail', type(message) == 'string', 'message')
    error(message, 0)
end

function big(bytes)
    check('big', is_count(bytes), 'bytes')
    -- Byte i is 'a' + i % 26: the alphabet repeated, cut to length.
    local alphabet = 'abcdefghijklmnopqrstuvwxyz'
    local s = string.rep(alphabet, math.floor(bytes / 26) + 1)
    return {s:sub(1, bytes)}
end

function push_then_fail(n)
    check('push_then_fail', is_count(n), 'n')
    for i = 1, n do
        box.session.push({i, 'push_then_fail'})
    end
    error(string.format('push_then_fail: failed after %d pushes', n), 0)
end

-- Everything is defined: now open the port.
box.cfg{listen = listen}

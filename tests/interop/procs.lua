-- tests/interop/procs.lua — a real Tarantool 2.6 serving kharon's built-in
-- procedures (docs/procedures.md), so that the interoperability tests and the
-- scenarios can be run against both servers and compared.
--
--   LISTEN=127.0.0.1:3301 WORK_DIR=/tmp/x tarantool tests/interop/procs.lua
--
-- Every function returns ONE table {r1, ..., rN}: CALL then answers
-- {0x30: [[r1, ..., rN]]} (encode_lua_call), as kharon's port_c does, and
-- CALL_16 answers what luamp_encode_call_16 makes of one table, which
-- kharon's port_table reproduces (src/box/port.h, docs/procedures.md):
-- echo(1, 2) gives [[1, 2]], echo([1], 2) gives [[1], [2]].
-- tests/suites/call_bytes.sh checks that both servers answer every CALL
-- and CALL_16 of tests/interop/call_bytes.cases with the same bytes.
-- Pushes are box.session.push({i, payload}): one IPROTO_CHUNK with body
-- {0x30: [[i, payload]]}, as kharon sends. Errors use error(msg, 0) so the
-- text carries no "file:line:" prefix (the code differs: ER_PROC_LUA here,
-- ER_PROC_C in kharon; the tests compare texts only). Arguments are
-- checked as kharon checks them — count, non-negative integers, the same
-- limits — with the same error texts.
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

-- kharon's limits (src/box/proc.c): pushes, milliseconds, bytes.
local PUSH_MAX = 10 * 1000 * 1000
local MS_MAX = 3600 * 1000
local BIG_MAX = 64 * 1024 * 1024

local function is_count(v, max)
    return type(v) == 'number' and v >= 0 and v <= max and v == math.floor(v)
end

function echo(...)
    return {...}
end

function push(...)
    local n, payload = ...
    check('push', select('#', ...) == 2 and is_count(n, PUSH_MAX),
          '(n, payload)')
    for i = 1, n do
        box.session.push({i, payload})
    end
    return {n}
end

-- push_stream: the pushes of push, yielding every ~128 KiB of output and
-- waiting while more than 512 KiB is unsent (kharon: src/box/proc.c). Lua
-- cannot see a session's unsent output, so the bound is kept on what all
-- streams wrote against what the network thread reports sent
-- (box.stat.net().SENT.total, updated by iproto as it writes): unsent =
-- written - sent, allowed 512 KiB per running stream. Replies and other
-- traffic count as sent too, so the bound is a little looser than
-- kharon's exact one, never tighter.
local STREAM_YIELD = 128 * 1024
local STREAM_UNSENT_MAX = 512 * 1024
-- A chunk's bytes besides the value: the 35-byte header and body prefix,
-- the array of two, and i (a MsgPack uint: 1, 2, 3 or 5 bytes).
local function chunk_overhead(i)
    return 35 + 1 + (i < 128 and 1 or i < 256 and 2 or i < 65536 and 3 or 5)
end
local stream_written = 0
local stream_sent_base = nil
local streams = 0

local function stream_unsent()
    return stream_written - (box.stat.net().SENT.total - stream_sent_base)
end

function push_stream(...)
    local n, payload = ...
    check('push_stream', select('#', ...) == 2 and is_count(n, PUSH_MAX),
          '(n, payload)')
    if stream_sent_base == nil then
        stream_sent_base = box.stat.net().SENT.total
    end
    local value_size = #require('msgpack').encode(payload)
    local since_yield = 0
    streams = streams + 1
    local ok, err = pcall(function()
        for i = 1, n do
            box.session.push({i, payload})
            local size = chunk_overhead(i) + value_size
            stream_written = stream_written + size
            since_yield = since_yield + size
            if since_yield >= STREAM_YIELD and i < n then
                since_yield = 0
                fiber.yield()
                while stream_unsent() > STREAM_UNSENT_MAX * streams do
                    fiber.sleep(0)
                end
            end
        end
    end)
    streams = streams - 1
    if not ok then
        error(err, 0)
    end
    return {n}
end

function push_every(...)
    local n, ms, payload = ...
    check('push_every', select('#', ...) == 3 and is_count(n, PUSH_MAX) and
          is_count(ms, MS_MAX), '(n, ms, payload)')
    for i = 1, n do
        if i > 1 then
            fiber.sleep(ms / 1000)
        end
        box.session.push({i, payload})
    end
    return {n}
end

function sleep(...)
    local ms = ...
    check('sleep', select('#', ...) == 1 and is_count(ms, MS_MAX), '(ms)')
    fiber.sleep(ms / 1000)
    return {true}
end

function fail(...)
    local message = ...
    check('fail', select('#', ...) == 1 and type(message) == 'string',
          '(message)')
    error(message, 0)
end

function big(...)
    local bytes = ...
    check('big', select('#', ...) == 1 and is_count(bytes, BIG_MAX), '(bytes)')
    -- Byte i is 'a' + i % 26: the alphabet repeated, cut to length.
    local alphabet = 'abcdefghijklmnopqrstuvwxyz'
    local s = string.rep(alphabet, math.floor(bytes / 26) + 1)
    return {s:sub(1, bytes)}
end

function push_then_fail(...)
    local n = ...
    check('push_then_fail', select('#', ...) == 1 and is_count(n, PUSH_MAX),
          '(n)')
    for i = 1, n do
        box.session.push({i, 'push_then_fail'})
    end
    error(string.format('push_then_fail: failed after %d pushes', n), 0)
end

-- Everything is defined: now open the port.
box.cfg{listen = listen}

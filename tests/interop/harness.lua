-- tests/interop/harness.lua — the little TAP-ish library shared by the
-- interoperability test scripts (tests/interop/test_*.lua).
--
-- Each script runs under `tarantool script.lua HOST:PORT` (the tarantool
-- binary is a LuaJIT interpreter with net.box) against either a real
-- Tarantool serving procs.lua or `kharon serve`; run.sh picks the server.
-- A script prints "ok N - what" per check and exits 0, or prints
-- "not ok N - what: why" and exits 1 at the FIRST failure, so the message
-- points at the cause rather than at its consequences.
--
--   local t = require('harness')
--   local conn = t.connect()
--   t.is_deeply(conn:call('echo', {1}, t.opts()), {1}, 'echo 1')
--   t.done()

local net_box = require('net.box')
local json = require('json')

local t = {}
local n_checks = 0

-- Seconds any single request may take before the check fails; keeps a
-- hung server from hanging the suite.
t.TIMEOUT = 10

t.addr = arg[1] or os.getenv('ADDR')
if t.addr == nil then
    io.stderr:write('usage: tarantool ' .. tostring(arg[0]) .. ' HOST:PORT\n')
    os.exit(2)
end

-- A readable rendering of any value (tables, box.NULL, cdata numbers).
function t.show(v)
    local ok, s = pcall(json.encode, v)
    if ok then
        if #s > 200 then
            s = s:sub(1, 200) .. string.format('...(%d chars)', #s)
        end
        return s
    end
    return tostring(v)
end

function t.pass(what)
    n_checks = n_checks + 1
    print(string.format('ok %d - %s', n_checks, what))
end

function t.fail(what, why)
    n_checks = n_checks + 1
    print(string.format('not ok %d - %s: %s', n_checks, what, why))
    io.stdout:flush()
    os.exit(1)
end

function t.ok(cond, what, why)
    if cond then
        t.pass(what)
    else
        t.fail(what, why or 'condition is false')
    end
end

-- nil and box.NULL (a cdata NULL pointer) are the same MsgPack nil.
local function is_null(v)
    if v == nil then
        return true
    end
    return type(v) == 'cdata' and select(2, pcall(function() return v == nil end)) == true
end

local function is_number(v)
    return type(v) == 'number' or (type(v) == 'cdata' and tonumber(v) ~= nil
                                   and not is_null(v))
end

-- Deep equality of decoded MsgPack values; returns true or false, path.
-- Numbers compare by value, whatever their Lua representation (a uint64
-- cdata may come back as a plain number when it fits).
local function deep_equal(a, b, path)
    if is_null(a) or is_null(b) then
        return is_null(a) and is_null(b), path
    end
    if is_number(a) and is_number(b) then
        return a == b, path
    end
    if type(a) ~= type(b) then
        return false, path
    end
    if type(a) ~= 'table' then
        return a == b, path
    end
    -- Catches a dropped trailing box.NULL, which pairs() alone cannot.
    if #a ~= #b then
        return false, path .. string.format(' (length %d vs %d)', #a, #b)
    end
    for k, v in pairs(a) do
        local eq, where = deep_equal(v, b[k], path .. '[' .. tostring(k) .. ']')
        if not eq then
            return false, where
        end
    end
    for k, _ in pairs(b) do
        if type(a[k]) == 'nil' then
            return false, path .. '[' .. tostring(k) .. '] (unexpected)'
        end
    end
    return true, path
end
t.deep_equal = deep_equal

function t.is_deeply(got, expected, what)
    local eq, where = deep_equal(got, expected, '')
    if eq then
        t.pass(what)
    else
        t.fail(what, string.format('differs at %s: got %s, expected %s',
                                   where == '' and 'top' or where,
                                   t.show(got), t.show(expected)))
    end
end

-- Runs f(...) expecting an error; returns its message (a string).
function t.raises(what, f, ...)
    local ok, err = pcall(f, ...)
    if ok then
        t.fail(what, 'no error raised, got ' .. t.show(err))
    end
    local msg = type(err) == 'cdata' and err.message or tostring(err)
    t.pass(what)
    return msg
end

function t.opts(extra)
    local o = {timeout = t.TIMEOUT}
    for k, v in pairs(extra or {}) do
        o[k] = v
    end
    return o
end

-- Connects as guest; fails the script if the connection is not active.
function t.connect()
    local conn = net_box.connect(t.addr, {connect_timeout = 5,
                                          wait_connected = true})
    if conn.state ~= 'active' then
        t.fail('connect to ' .. t.addr,
               'state ' .. tostring(conn.state) .. ', error ' .. tostring(conn.error))
    end
    t.pass('connect to ' .. t.addr)
    return conn
end

function t.done()
    print(string.format('1..%d', n_checks))
    io.stdout:flush()
    os.exit(0)
end

-- Any Lua error escaping a check (a timeout, a closed connection) is a
-- failure too, reported with its message.
function t.main(body)
    local ok, err = pcall(body)
    if not ok then
        local msg = type(err) == 'cdata' and err.message or tostring(err)
        t.fail('unexpected error', msg)
    end
    t.done()
end

return t

-- tests/interop/test_call16.lua — the old CALL_16 request (net.box's
-- call_16). Both servers answer as Tarantool's Lua port does for a function
-- returning ONE table (luamp_encode_call_16; kharon's port_table): a table
-- whose first value is not an array is one tuple, a table of arrays is a
-- tuple per value, scalars after the first wrapped. The bytes themselves are
-- compared by tests/suites/call_bytes.sh; this is what net.box makes of them.
-- Run by run.sh as `tarantool test_call16.lua HOST:PORT`.
package.path = (arg[0]:match('(.*/)') or './') .. '?.lua;' .. package.path
local t = require('harness')

local function totable(res)
    local out = {}
    for i, tuple in ipairs(res) do
        out[i] = type(tuple) == 'cdata' and tuple:totable() or tuple
    end
    return out
end

t.main(function()
    local conn = t.connect()
    t.is_deeply(totable(conn:call_16('push', 3, 'x')), {{3}},
                'call_16 push 3 returns one tuple [3]')
    t.is_deeply(totable(conn:call_16('sleep', 1)), {{true}},
                'call_16 sleep returns one tuple [true]')
    t.is_deeply(totable(conn:call_16('echo')), {{}},
                'call_16 echo() returns one empty tuple')
    t.is_deeply(totable(conn:call_16('echo', 1, 2)), {{1, 2}},
                'call_16 echo(1, 2) returns one tuple [1, 2]')
    t.is_deeply(totable(conn:call_16('echo', true, 1.5)), {{true, 1.5}},
                'call_16 echo(true, 1.5) returns one tuple')
    t.is_deeply(totable(conn:call_16('echo', {1}, 2, {a = 3})),
                {{1}, {2}, {{a = 3}}},
                'call_16 echo([1], 2, {a = 3}) returns a tuple per value')
    t.is_deeply(totable(conn:call_16('echo', 1, {2})), {{1, {2}}},
                'call_16 echo(1, [2]) returns one tuple: the first value decides')
    local msg = t.raises('call_16 fail raises', conn.call_16, conn, 'fail', 'boom 16')
    t.is_deeply(msg, 'boom 16', 'call_16 fail error text')
    t.ok(conn:ping({timeout = t.TIMEOUT}), 'ping after call_16')
    conn:close()
end)

-- tests/interop/test_call16.lua — the old CALL_16 request (net.box's
-- call_16). A C procedure's results are dumped one tuple each, and a Lua
-- function returning one flat table gives one tuple, so for procedures with
-- a single scalar result ({n}, {true}) both servers answer {{n}}.
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
    local msg = t.raises('call_16 fail raises', conn.call_16, conn, 'fail', 'boom 16')
    t.is_deeply(msg, 'boom 16', 'call_16 fail error text')
    t.ok(conn:ping({timeout = t.TIMEOUT}), 'ping after call_16')
    conn:close()
end)

-- tests/interop/test_basic.lua — ping, echo of nested values, errors, big
-- strings, sleep: the request/reply half of the protocol, no pushes.
-- Run by run.sh as `tarantool test_basic.lua HOST:PORT`.
package.path = (arg[0]:match('(.*/)') or './') .. '?.lua;' .. package.path
local t = require('harness')

t.main(function()
    local conn = t.connect()
    t.ok(conn:ping({timeout = t.TIMEOUT}), 'ping')

    -- echo returns its arguments unchanged, as ONE table.
    local cases = {
        {'no arguments', {}},
        {'small ints', {0, 1, 127, 128, 255, 256, 65535, 65536}},
        {'negative ints', {-1, -32, -33, -128, -129, -32768, -32769, -2147483649}},
        {'large ints', {4294967295, 4294967296, 9007199254740992,
                        18446744073709551615ULL, -9223372036854775807LL - 1}},
        {'floats', {1.5, -0.25, 3.14159265358979, 1e300, -1e-300}},
        {'strings', {'', 'a', string.rep('x', 31), string.rep('y', 32),
                     string.rep('z', 300), string.rep('w', 70000)}},
        {'unicode', {'héllo wörld', '日本語テキスト', '✓ ∑ 😀'}},
        {'binary-ish string', {'a\0b\255\1'}},
        {'booleans', {true, false, true}},
        {'null inside array', {1, box.NULL, 3, box.NULL}},
        {'nested arrays', {{1, {2, {3, {4, {}}}}}, {{}, {{}}}}},
        {'maps', {{a = 1, b = 'two', c = {d = {e = true}}}, {[10] = 'x', [20] = 'y'}}},
        {'mixed', {{name = 'n', list = {1, 'a', {k = box.NULL}, false}}, -7, 'end'}},
    }
    for _, case in ipairs(cases) do
        local res = conn:call('echo', case[2], t.opts())
        t.is_deeply(res, case[2], 'echo ' .. case[1])
    end

    -- Errors: the text is exact for fail, the connection survives them.
    local msg = t.raises('fail raises', conn.call, conn, 'fail',
                         {'something went wrong: ünïcode'}, t.opts())
    t.is_deeply(msg, 'something went wrong: ünïcode', 'fail error text is exact')
    msg = t.raises('unknown procedure raises', conn.call, conn, 'no_such_proc',
                   {}, t.opts())
    t.is_deeply(msg, "Procedure 'no_such_proc' is not defined",
                'unknown procedure error text')
    msg = t.raises('wrong arguments raise', conn.call, conn, 'push', {'x'}, t.opts())
    t.ok(msg:sub(1, #'push: expected') == 'push: expected',
         'wrong arguments error text', 'got ' .. t.show(msg))
    -- kharon does not support EVAL at all; a real Tarantool evaluates, so
    -- the expression itself raises: either way the client gets an error.
    t.raises('eval raises', conn.eval, conn, "error('eval must fail')", {}, t.opts())
    t.ok(conn:ping({timeout = t.TIMEOUT}), 'ping after errors')

    -- big: byte i is 'a' + i % 26, built here byte by byte.
    for _, bytes in ipairs({0, 1, 26, 27, 1000, 1048576}) do
        local chars = {}
        for i = 0, bytes - 1 do
            chars[i + 1] = string.char(97 + i % 26)
        end
        local expected = table.concat(chars)
        local res = conn:call('big', {bytes}, t.opts())
        t.ok(type(res) == 'table' and #res == 1 and res[1] == expected,
             string.format('big %d returns the exact string', bytes),
             string.format('got %s of %s bytes', type(res),
                           type(res) == 'table' and type(res[1]) == 'string'
                           and #res[1] or '?'))
    end

    t.is_deeply(conn:call('sleep', {20}, t.opts()), {true}, 'sleep 20 ms')
    conn:close()
end)

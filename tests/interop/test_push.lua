-- tests/interop/test_push.lua — box.session.push seen from net.box: every
-- push arrives through on_push, in order, before the final result; pushes
-- spread over time (push_every); pushes followed by an error.
-- Run by run.sh as `tarantool test_push.lua HOST:PORT`.
package.path = (arg[0]:match('(.*/)') or './') .. '?.lua;' .. package.path
local t = require('harness')

-- Checks that pushes == {{1, payload}, ..., {n, payload}}.
local function check_pushes(pushes, n, payload, what)
    for i = 1, n do
        local p = pushes[i]
        if type(p) ~= 'table' or p[1] ~= i or p[2] ~= payload or #p ~= 2 then
            t.fail(what, string.format('push %d is %s, expected [%d, %s]',
                                       i, t.show(p), i, t.show(payload)))
        end
    end
    t.ok(#pushes == n, what, string.format('%d pushes, expected %d', #pushes, n))
end

t.main(function()
    local conn = t.connect()

    local pushes = {}
    local res = conn:call('push', {1000, 'x'},
                          t.opts({on_push = table.insert, on_push_ctx = pushes}))
    check_pushes(pushes, 1000, 'x', '1000 pushes arrive in order')
    t.is_deeply(res, {1000}, 'push result after the pushes')

    -- A structured payload goes through unchanged.
    pushes = {}
    local payload = {k = {1, 2, 'three'}}
    res = conn:call('push', {3, payload},
                    t.opts({on_push = table.insert, on_push_ctx = pushes}))
    t.is_deeply(pushes, {{1, payload}, {2, payload}, {3, payload}},
                'pushes with a map payload')
    t.is_deeply(res, {3}, 'push 3 result')

    pushes = {}
    res = conn:call('push', {0, 'none'},
                    t.opts({on_push = table.insert, on_push_ctx = pushes}))
    t.is_deeply(pushes, {}, 'push 0 pushes nothing')
    t.is_deeply(res, {0}, 'push 0 result')

    -- Pushes spread over several event-loop iterations.
    pushes = {}
    res = conn:call('push_every', {5, 10, 'p'},
                    t.opts({on_push = table.insert, on_push_ctx = pushes}))
    check_pushes(pushes, 5, 'p', 'push_every 5 pushes arrive in order')
    t.is_deeply(res, {5}, 'push_every result')

    -- An asynchronous call: the future yields the pushes, then the result.
    local future = conn:call('push', {10, 'async'}, {is_async = true})
    -- future:pairs yields every push, then the final result last.
    local messages = {}
    for i, msg in future:pairs(t.TIMEOUT) do
        if i == nil then
            t.fail('future:pairs', 'iteration error ' .. t.show(msg))
        end
        messages[#messages + 1] = msg
    end
    local final = table.remove(messages)
    pushes = messages
    check_pushes(pushes, 10, 'async', 'future:pairs yields 10 pushes in order')
    -- A future hands back the whole DATA array, not unpacked as call()
    -- does: {0x30: [[10]]} on the wire (one port_c entry) gives {{10}}.
    t.is_deeply(final, {{10}}, 'future:pairs ends with the result')
    t.is_deeply(future:wait_result(t.TIMEOUT), {{10}}, 'future:wait_result')

    -- Pushes, then an error with an exact text.
    pushes = {}
    local msg = t.raises('push_then_fail raises', conn.call, conn,
                         'push_then_fail', {4},
                         t.opts({on_push = table.insert, on_push_ctx = pushes}))
    check_pushes(pushes, 4, 'push_then_fail', 'push_then_fail pushes arrive first')
    t.is_deeply(msg, 'push_then_fail: failed after 4 pushes',
                'push_then_fail error text')
    t.ok(conn:ping({timeout = t.TIMEOUT}), 'ping after pushes')
    conn:close()
end)

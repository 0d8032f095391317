-- tests/interop/test_concurrent.lua — 100 fibers share ONE connection; each
-- calls a pushing procedure with its own payload and must receive exactly its
-- own pushes, in order, then its own result. net.box demultiplexes replies
-- and pushes by sync, so any mix-up of syncs in the server shows up here.
-- Run by run.sh as `tarantool test_concurrent.lua HOST:PORT`.
package.path = (arg[0]:match('(.*/)') or './') .. '?.lua;' .. package.path
local t = require('harness')
local fiber = require('fiber')

local N_FIBERS = 100

t.main(function()
    local conn = t.connect()
    local done = fiber.channel(N_FIBERS)

    -- Even fibers push everything in one go; odd ones yield between
    -- pushes, so requests interleave both ways on the wire.
    local function worker(k)
        local payload = 'fiber-' .. k
        local n = 20 + k % 7
        local pushes = {}
        local opts = t.opts({on_push = table.insert, on_push_ctx = pushes})
        local ok, res
        if k % 2 == 0 then
            ok, res = pcall(conn.call, conn, 'push', {n, payload}, opts)
        else
            ok, res = pcall(conn.call, conn, 'push_every', {n, 1, payload}, opts)
        end
        local problem
        if not ok then
            problem = 'error ' .. tostring(res)
        elseif not t.deep_equal(res, {n}, '') then
            problem = 'result ' .. t.show(res)
        elseif #pushes ~= n then
            problem = string.format('%d pushes, expected %d', #pushes, n)
        else
            for i = 1, n do
                if not t.deep_equal(pushes[i], {i, payload}, '') then
                    problem = string.format('push %d is %s', i, t.show(pushes[i]))
                    break
                end
            end
        end
        done:put({k, problem})
    end

    for k = 1, N_FIBERS do
        fiber.create(worker, k)
    end
    local mismatches = {}
    for _ = 1, N_FIBERS do
        local r = done:get(2 * t.TIMEOUT)
        if r == nil then
            t.fail('all fibers finish', 'timed out waiting for a fiber')
        end
        if r[2] ~= nil then
            mismatches[#mismatches + 1] = string.format('fiber %d: %s', r[1], r[2])
        end
    end
    t.pass(N_FIBERS .. ' fibers finished')
    t.ok(#mismatches == 0, 'each fiber got exactly its own pushes and result',
         #mismatches .. ' mismatches; first: ' .. tostring(mismatches[1]))
    t.ok(conn:ping({timeout = t.TIMEOUT}), 'ping after the storm')
    conn:close()
end)

-- tests/interop/test_auth.lua — AUTH as guest, byte by byte: a raw socket
-- reads the greeting's salt, sends AUTH requests with a right and wrong
-- chap-sha1 scramble (and malformed ones), and checks each answer's code
-- and message. guest's password is empty in Tarantool, so the right
-- scramble is that of "". The same answers from Tarantool 2.6 and kharon
-- (src/box/auth.c). Also net.box with "guest:wrong@": refused.
-- Run by run.sh as `tarantool test_auth.lua HOST:PORT`.
package.path = (arg[0]:match('(.*/)') or './') .. '?.lua;' .. package.path
local t = require('harness')
local socket = require('socket')
local msgpack = require('msgpack')
local digest = require('digest')
local net_box = require('net.box')

local host, port = t.addr:match('^(.*):(%d+)$')

local function xor(a, b)
    local out = {}
    for i = 1, #a do
        out[i] = string.char(bit.bxor(a:byte(i), b:byte(i)))
    end
    return table.concat(out)
end

-- scramble_prepare(): sha1(pw) XOR sha1(salt[1..20] .. sha1(sha1(pw)))
local function scramble(salt, password)
    local hash1 = digest.sha1(password)
    local hash2 = digest.sha1(hash1)
    return xor(hash1, digest.sha1(salt:sub(1, 20) .. hash2))
end

local sync = 0

-- One AUTH on a fresh connection: returns code, message (nil if none).
-- `tuple` is the raw MsgPack of the TUPLE value, or a function of the salt.
local function auth(user, tuple)
    local s = socket.tcp_connect(host, tonumber(port), 5)
    assert(s, 'connect')
    local greeting = s:read(128, 5)
    assert(greeting and #greeting == 128, 'greeting')
    local salt = digest.base64_decode(greeting:sub(65, 128):match('^%s*(%S+)'))
    if type(tuple) == 'function' then
        tuple = tuple(salt)
    end
    sync = sync + 1
    local header = msgpack.encode({[0x00] = 7, [0x01] = sync})
    -- {0x23: user, 0x21: tuple}
    local body = '\x82' .. msgpack.encode(0x23) .. msgpack.encode(user) ..
                 msgpack.encode(0x21) .. tuple
    local packet = header .. body
    s:write('\xce' .. string.char(bit.band(bit.rshift(#packet, 24), 255),
                                  bit.band(bit.rshift(#packet, 16), 255),
                                  bit.band(bit.rshift(#packet, 8), 255),
                                  bit.band(#packet, 255)) .. packet)
    local len_bytes = s:read(5, 5)
    assert(len_bytes and #len_bytes == 5, 'reply length')
    local len = msgpack.decode(len_bytes)
    local reply = s:read(len, 5)
    s:close()
    local h, pos = msgpack.decode(reply)
    local b = {}
    if pos <= #reply then
        b = msgpack.decode(reply, pos)
    end
    assert(h[0x01] == sync, 'sync')
    return h[0x00], b[0x31]
end

local function expect(what, user, tuple, code, message)
    local got_code, got_msg = auth(user, tuple)
    t.ok(got_code == code and got_msg == message, what,
         string.format('got code 0x%x %s, expected 0x%x %s', got_code,
                       t.show(got_msg), code, t.show(message)))
end

local function chap(scr)
    return '\x92' .. msgpack.encode('chap-sha1') .. msgpack.encode(scr)
end

t.main(function()
    expect('guest, the scramble of the empty password', 'guest',
           function(salt) return chap(scramble(salt, '')) end, 0, nil)
    expect('guest, the scramble of the empty password as bin', 'guest',
           function(salt)
               return '\x92' .. msgpack.encode('chap-sha1') .. '\xc4\x14' ..
                      scramble(salt, '')
           end, 0, nil)
    expect('guest, a wrong scramble', 'guest',
           function(salt) return chap(scramble(salt, 'wrong')) end,
           0x8000 + 47, "Incorrect password supplied for user 'guest'")
    expect('guest, 20 bytes of x', 'guest', chap(string.rep('x', 20)),
           0x8000 + 47, "Incorrect password supplied for user 'guest'")
    expect('guest, an empty tuple: back to guest', 'guest', '\x90', 0, nil)
    expect('guest, the mechanism alone', 'guest',
           '\x91' .. msgpack.encode('chap-sha1'),
           0x8000 + 20, 'Invalid MsgPack - authentication request body')
    expect('guest, a scramble that is a number', 'guest',
           '\x92' .. msgpack.encode('chap-sha1') .. '\x05',
           0x8000 + 20, 'Invalid MsgPack - authentication scramble')
    expect('guest, a short scramble', 'guest', chap('short'),
           0x8000 + 20, 'Invalid MsgPack - invalid scramble size')
    expect('another user', 'nobody', chap(string.rep('x', 20)),
           0x8000 + 45, "User 'nobody' is not found")

    -- net.box with a password for guest sends AUTH: refused.
    local conn = net_box.connect('guest:wrong@' .. t.addr,
                                 {connect_timeout = 5, wait_connected = true})
    t.ok(conn.state ~= 'active' and tostring(conn.error):find(
             "Incorrect password supplied for user 'guest'", 1, true),
         'net.box guest:wrong@ is refused',
         'state ' .. tostring(conn.state) .. ', error ' .. tostring(conn.error))
    conn:close()
end)

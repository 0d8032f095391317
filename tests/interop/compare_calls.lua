-- tests/interop/compare_calls.lua — the same raw CALL_16 (0x06) and CALL
-- (0x0a) packets sent to two servers (a real Tarantool 2.6 serving
-- procs.lua and `kharon serve`), their replies compared byte for byte:
-- every IPROTO_CHUNK body and the final body, in order. Only the headers
-- are left aside (sync and schema_version are each server's own), and an
-- error reply is compared by its message (IPROTO_ERROR_24): its code and
-- the IPROTO_ERROR stack (file, line, error type) are each server's own.
--
--   tarantool compare_calls.lua HOST:PORT HOST:PORT CASES-FILE [-v]
--
-- CASES-FILE has one case a line (`#` starts a comment):
--   same FUNCTION ARGS-HEX      both servers answer with the same bytes
--   differs FUNCTION ARGS-HEX   they must not: a documented difference
--                               (docs/procedures.md, "Byte for byte")
-- ARGS-HEX is the request's IPROTO_TUPLE, a MsgPack array. Each case is
-- sent as CALL_16 and as CALL. Prints one line per case and request type,
-- then "N same, N differ as documented, N failed"; exits 0 only if no case
-- failed, 2 on bad usage or a bad case file. Run by tests/suites/call_bytes.sh.
local socket = require('socket')
local msgpack = require('msgpack')

local TIMEOUT = 10
local CHUNK = 0x80

local function usage(msg)
    io.stderr:write('compare_calls: ' .. msg .. '\n')
    os.exit(2)
end

local addr = {arg[1], arg[2]}
local cases_file = arg[3]
local verbose = arg[4] == '-v'
if addr[1] == nil or addr[2] == nil or cases_file == nil then
    usage('usage: compare_calls.lua HOST:PORT HOST:PORT CASES-FILE [-v]')
end

local function hex(s)
    return (s:gsub('.', function(c) return string.format('%02x ', c:byte()) end))
end

local function unhex(h)
    local digits = h:gsub('%s', '')
    if #digits % 2 ~= 0 or digits:find('[^%x]') then
        return nil
    end
    return (digits:gsub('..', function(x) return string.char(tonumber(x, 16)) end))
end

local function connect(a)
    local host, port = a:match('^(.+):(%d+)$')
    if host == nil then
        usage('bad address ' .. a)
    end
    local s = socket.tcp_connect(host, tonumber(port), TIMEOUT)
    if s == nil then
        io.stderr:write('compare_calls: cannot connect to ' .. a .. '\n')
        os.exit(1)
    end
    local greeting = s:read(128, TIMEOUT)
    if greeting == nil or #greeting ~= 128 then
        io.stderr:write('compare_calls: no greeting from ' .. a .. '\n')
        os.exit(1)
    end
    return {sock = s, addr = a}
end

local function read_exact(conn, n)
    local data = conn.sock:read(n, TIMEOUT)
    if data == nil or #data ~= n then
        error(conn.addr .. ': connection closed or timed out', 0)
    end
    return data
end

-- One request: every packet of the answer, as text to compare.
local function ask(conn, packet, sync)
    conn.sock:write(packet)
    local answer = {}
    while true do
        local len = msgpack.decode(read_exact(conn, 5))
        local data = read_exact(conn, len)
        local header, pos = msgpack.decode(data)
        if header[0x01] ~= sync then
            error(string.format('%s: sync %s, expected %d', conn.addr,
                                tostring(header[0x01]), sync), 0)
        end
        local body = data:sub(pos)
        local ty = header[0x00]
        if ty == CHUNK then
            table.insert(answer, 'chunk ' .. hex(body))
        elseif ty == 0 then
            table.insert(answer, 'ok ' .. hex(body))
            return table.concat(answer, '\n')
        elseif ty >= 0x8000 then
            local map = msgpack.decode(body)
            table.insert(answer, 'error ' .. tostring(map[0x31]))
            return table.concat(answer, '\n')
        else
            error(string.format('%s: reply type %s', conn.addr, ty), 0)
        end
    end
end

local function packet(ty, sync, name, args)
    local payload = msgpack.encode({[0x00] = ty, [0x01] = sync}) ..
                    '\x82' .. msgpack.encode(0x22) .. msgpack.encode(name) ..
                    msgpack.encode(0x21) .. args
    -- The length as uint32 (0xce), as Tarantool's own clients write it.
    return '\xce' .. string.char(bit.band(bit.rshift(#payload, 24), 0xff),
                                 bit.band(bit.rshift(#payload, 16), 0xff),
                                 bit.band(bit.rshift(#payload, 8), 0xff),
                                 bit.band(#payload, 0xff)) .. payload
end

local file = io.open(cases_file)
if file == nil then
    usage('cannot open ' .. cases_file)
end
local cases = {}
local lineno = 0
for line in file:lines() do
    lineno = lineno + 1
    line = line:gsub('#.*$', '')
    if line:find('%S') then
        local kind, name, rest = line:match('^%s*(%S+)%s+(%S+)%s*(.*)$')
        local args = rest and unhex(rest)
        local where = cases_file .. ':' .. lineno .. ': '
        if kind ~= 'same' and kind ~= 'differs' then
            usage(where .. 'expected "same" or "differs"')
        end
        if args == nil or #args == 0 then
            usage(where .. 'expected FUNCTION ARGS-HEX')
        end
        local ok, value, pos = pcall(msgpack.decode, args)
        if not ok or type(value) ~= 'table' or pos ~= #args + 1 or
           args:byte(1) < 0x90 or (args:byte(1) > 0x9f and
           args:byte(1) ~= 0xdc and args:byte(1) ~= 0xdd) then
            usage(where .. 'the arguments are not one MsgPack array')
        end
        table.insert(cases, {kind = kind, name = name, args = args,
                             text = name .. ' ' .. rest:gsub('%s+$', '')})
    end
end
file:close()
if #cases == 0 then
    usage(cases_file .. ': no cases')
end

local conns = {connect(addr[1]), connect(addr[2])}
local same, differ, failed = 0, 0, 0
local sync = 0
local ok, err = pcall(function()
    for _, case in ipairs(cases) do
        for _, ty in ipairs({{0x06, 'CALL_16'}, {0x0a, 'CALL'}}) do
            sync = sync + 1
            local p = packet(ty[1], sync, case.name, case.args)
            local a = ask(conns[1], p, sync)
            local b = ask(conns[2], p, sync)
            local label = string.format('%-7s %s', ty[2], case.text)
            local good
            if case.kind == 'same' then
                good = a == b
                if good then same = same + 1 end
            else
                good = a ~= b
                if good then differ = differ + 1 end
            end
            if not good then
                failed = failed + 1
                print('FAIL ' .. label .. (case.kind == 'same' and
                      ': the answers differ' or
                      ': documented as different, but the same'))
            elseif verbose then
                print('ok   ' .. label)
            end
            if not good or verbose then
                print('     ' .. addr[1] .. ': ' .. a:gsub('\n', '\n       '))
                print('     ' .. addr[2] .. ': ' .. b:gsub('\n', '\n       '))
            end
        end
    end
end)
if not ok then
    print('FAIL ' .. tostring(err))
    failed = failed + 1
end
print(string.format('%d same, %d differ as documented, %d failed',
                    same, differ, failed))
os.exit(failed == 0 and 0 or 1)

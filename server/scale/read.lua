-- A room's log as one consistent snapshot: epoch, seq, the newest lost
-- message's seq, the kept entries from ARGV[1] on (a stream id, "-" for all),
-- and, when ARGV[2] is "presence", who is in the room.
local meta, messages, notices, presence = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local from, withPresence = ARGV[1], ARGV[2] == 'presence'

local members = {}
if withPresence then
  members = redis.call('HVALS', presence)
end
local epoch = redis.call('HGET', meta, 'epoch')
if not epoch or (redis.call('EXISTS', messages) == 0 and redis.call('EXISTS', notices) == 0) then
  return { '', 0, 0, {}, {}, members }
end

local function entries(stream)
  local out = {}
  for i, row in ipairs(redis.call('XRANGE', stream, from, '+')) do
    out[i] = row[2][2]
  end
  return out
end

local seq = tonumber(redis.call('HGET', meta, 'seq'))
local lost = tonumber(redis.call('HGET', meta, 'lost') or '0')
return { epoch, seq, lost, entries(messages), entries(notices), members }

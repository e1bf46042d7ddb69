package shardrules

import (
	"fmt"
	"hash/crc32"
)

// slot: Redis-cluster-style slots. A value's slot is the CRC-32 (IEEE) of
// its key text (see Value) mod slots; a slot belongs to one shard. Options:
//
//	slots: N                              default 1024 (1..65536)
//	slot_map: [{from: a, to: b, shard: i}, ...]
//	                                      half-open slot ranges [a, b) that together
//	                                      cover 0..slots-1 exactly once
//
// Without slot_map, shard i owns the contiguous block of slots s with
// s*shards/slots == i (slots must be >= shards). Resharding moves whole slot
// ranges: copy the rows of the moving slots (SlotOf tells a row's slot) to
// the new shard, then edit slot_map. Not range-capable.
type SlotAlgorithm struct {
	n     int
	slots int
	owner []int32 // slot -> shard
	keyText
}

// SlotRange is the half-open range of slots [From, To).
type SlotRange struct{ From, To int }

func newSlot(o *opts) (Algorithm, error) {
	slots, err := o.int("slots", 1024)
	if err != nil {
		return nil, err
	}
	if slots < 1 || slots > 65536 {
		return nil, optErr("slots", "must be between 1 and 65536, got %d", slots)
	}
	kt, err := newKeyText("slot", o)
	if err != nil {
		return nil, err
	}
	a := &SlotAlgorithm{n: o.n, slots: int(slots), owner: make([]int32, slots), keyText: kt}
	spans, ok, err := o.spans("slot_map")
	if err != nil {
		return nil, err
	}
	if !ok {
		if a.slots < a.n {
			return nil, optErr("slots", "%d slots cannot cover %d shards: need slots >= shards", a.slots, a.n)
		}
		for s := range a.owner {
			a.owner[s] = int32(int64(s) * int64(a.n) / int64(a.slots))
		}
		return a, nil
	}
	next := int64(0) // spans are sorted and do not overlap; look for holes
	for _, sp := range spans {
		if sp.from < 0 || sp.to > slots {
			return nil, optErr("slot_map", "[%d, %d) is outside the slots [0, %d)", sp.from, sp.to, slots)
		}
		if sp.from > next {
			return nil, optErr("slot_map", "slots [%d, %d) belong to no shard", next, sp.from)
		}
		for s := sp.from; s < sp.to; s++ {
			a.owner[s] = int32(sp.shard)
		}
		next = sp.to
	}
	if next < slots {
		return nil, optErr("slot_map", "slots [%d, %d) belong to no shard", next, slots)
	}
	return a, nil
}

func (a *SlotAlgorithm) Name() string { return "slot" }

// Slots returns the number of slots.
func (a *SlotAlgorithm) Slots() int { return a.slots }

// SlotOf returns v's slot; NULL has none (-1) and lives on shard 0. A
// string with no key text is a *CollationError.
func (a *SlotAlgorithm) SlotOf(v Value) (int, error) {
	if v.IsNull() {
		return -1, nil
	}
	var buf [64]byte
	k, err := a.keyText.append(buf[:0], v)
	if err != nil {
		return 0, err
	}
	return int(crc32IEEE(k) % uint32(a.slots)), nil
}

// crc32IEEE is crc32.ChecksumIEEE written out over its table, because the
// library's version makes every key escape to the heap.
func crc32IEEE(b []byte) uint32 {
	crc := ^uint32(0)
	for _, c := range b {
		crc = crc32.IEEETable[byte(crc)^c] ^ crc>>8
	}
	return ^crc
}

// ShardOfSlot returns the shard that owns slot s (0 <= s < Slots()).
func (a *SlotAlgorithm) ShardOfSlot(s int) int { return int(a.owner[s]) }

// ShardSlots lists the slot ranges shard owns, ascending; empty when it owns none.
func (a *SlotAlgorithm) ShardSlots(shard int) []SlotRange {
	var out []SlotRange
	for s := 0; s < a.slots; s++ {
		if int(a.owner[s]) != shard {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].To == s {
			out[k].To++
		} else {
			out = append(out, SlotRange{s, s + 1})
		}
	}
	return out
}

func (a *SlotAlgorithm) Shard(v Value) (int, error) {
	if v.IsNull() {
		return 0, nil
	}
	slot, err := a.SlotOf(v)
	if err != nil {
		return 0, err
	}
	return int(a.owner[slot]), nil
}

func (a *SlotAlgorithm) Range(lo, hi *Value, loIncl, hiIncl bool) ([]int, bool) {
	return allShards(a.n), false
}

func (r SlotRange) String() string { return fmt.Sprintf("[%d, %d)", r.From, r.To) }

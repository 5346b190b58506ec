import CPrefetch
import Foundation

/// A dictionary page body (PLAIN values), its number of values, each value's index into it, and (for byte
/// strings) the value index of each dictionary entry's first occurrence.
struct DictionaryEncoding {
    var page: [UInt8]
    var count: Int
    var indices: [UInt32]
    var firsts: [Int32]?
}

/// When a dictionary attempt stops early: a column whose first `size` values are nearly all distinct, and whose
/// dictionary would at that rate pass the size limit by half again, is written PLAIN without hashing the
/// rest (ids, timestamps, amounts: without this, each row group hashed values until the dictionary passed
/// 1 MiB, some 131,000 of them for longs, only to throw the table away). Values drawn at random from any set
/// that the limit could hold show more repeats than that in the sample, so only data whose first values are
/// distinct and whose later ones repeat them (a short cycle longer than the sample) loses a dictionary it
/// would have had: a larger file, never a different value.
enum DictionarySample {
    static let size = 16_384

    /// Whether to give up after `size` of `count` values showed `distinct` values taking `bytes` in the page.
    static func givesUp(distinct: Int, bytes: Int, of count: Int, limit: Int) -> Bool {
        guard count >= 4 * size, distinct * 100 >= size * 99 else { return false }
        // The page at the sample's rate of new bytes per value, against 1.5 times the limit.
        return bytes * (count / size) > limit + limit / 2
    }

    /// How many distinct values `count` values hold, guessed from the `distinct` ones their first `sample`
    /// showed, as if drawn at random from a set of `n`: `n` solves `distinct = n (1 - e^(-sample/n))`, and
    /// `count` draws from it show `n (1 - e^(-count/n))`. Sizes a dictionary's hash table once, where growing
    /// it by doubling moved every entry again at each step (some 200,000 moves for 92,000 user ids, about a
    /// quarter of the build's time). A guess only: a wrong one costs a resize or some room, never a value.
    static func expectedDistinct(_ distinct: Int, inFirst sample: Int, of count: Int) -> Int {
        guard distinct < sample, distinct > 0 else { return distinct > 0 ? count : 0 }
        let (d, s) = (Double(distinct), Double(sample))
        // n (1 - e^(-s/n)) grows with n, from below d at n = d towards s > d: double an upper bound until it
        // reaches d, then halve the bracket.
        var (low, high) = (d, d)
        while high * (1 - exp(-s / high)) < d, high < 1e12 { high *= 2 }
        for _ in 0..<48 {
            let mid = (low + high) / 2
            if mid * (1 - exp(-s / mid)) < d { low = mid } else { high = mid }
        }
        let expected = high * (1 - exp(-Double(count) / high))
        return min(count, Int(expected.rounded(.up)))
    }

    /// The smallest power of two, at least 1,024, that holds `entries` while at most `loadNumerator` /
    /// `loadDenominator` full.
    static func capacity(for entries: Int, loadNumerator: Int, loadDenominator: Int) -> Int {
        var capacity = 1024
        while entries * loadDenominator > capacity * loadNumerator { capacity *= 2 }
        return capacity
    }
}

/// A hash table over byte strings held in one buffer, for dictionary encoding without allocating a key
/// per value.
enum ByteArrayDictionary {
    /// A hash of a byte string eight bytes at a time (a multiply-xorshift mix; not FNV's byte at a time).
    @inline(__always)
    static func hash(_ base: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
        var h: UInt64 = 0x243F_6A88_85A3_08D3 ^ UInt64(count)
        var p = 0
        while p + 8 <= count {
            let word = UnsafeRawPointer(base + p).loadUnaligned(as: UInt64.self)
            h = (h ^ word) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
            p += 8
        }
        if p < count {
            var tail: UInt64 = 0
            for i in p..<count { tail |= UInt64(base[i]) << (UInt64(i - p) * 8) }
            h = (h ^ tail) &* 0x9E37_79B9_7F4A_7C15
            h ^= h >> 29
        }
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }

    /// A slot of the table, 16 bytes so that four share a cache line and the table of a large dictionary
    /// (100,000 user ids) stays near the core's cache: 24 bits of the entry's hash with its length (up to
    /// 255) in the low byte, and (for values of up to eight bytes) the value itself as a word, so that a
    /// lookup of a short value compares words and never goes back to the bytes; `entry` is -1 in an empty slot.
    struct Slot {
        var word: UInt64 = 0
        var tag: UInt32 = 0
        var entry: Int32 = -1
    }

    /// A slot's tag: the hash bits the slot index does not use, and the length.
    @inline(__always)
    static func tag(_ hash: UInt64, _ length: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: hash >> 40) << 8 | UInt32(min(length, 255))
    }

    /// The first `count` (at most 8) bytes at `start` as a little-endian word, the rest zero.
    @inline(__always)
    static func word(_ data: UnsafeBufferPointer<UInt8>, _ start: Int, _ count: Int) -> UInt64 {
        guard count > 0 else { return 0 }
        if start + 8 <= data.count {
            let word = UnsafeRawPointer(data.baseAddress! + start).loadUnaligned(as: UInt64.self)
            return count == 8 ? word : word & ((1 << (UInt64(count) * 8)) - 1)
        }
        var word: UInt64 = 0
        for k in 0..<count { word |= UInt64(data[start + k]) << (UInt64(k) * 8) }
        return word
    }

    /// ``hash(_:_:)`` of a value of up to eight bytes given as its word.
    @inline(__always)
    static func hash(word: UInt64, count: Int) -> UInt64 {
        guard count > 0 else { return 0 }
        var h = (0x243F_6A88_85A3_08D3 ^ UInt64(count) ^ word) &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 29
        h = (h ^ (h >> 32)) &* 0xD6E8_FEB8_6659_FD93
        return h ^ (h >> 32)
    }

    /// How many values ahead a lookup's slot is asked of the cache: the table of a large dictionary (100,000
    /// user ids: 2 MiB) is mostly outside the core's cache, and a lookup would otherwise wait on each miss.
    static let lookahead = 8

    /// A table of `capacity` slots holding `table`'s entries, which it deallocates (a function of its own
    /// rather than one nested in ``build(bytes:offsets:fixed:limit:)``'s loop: a nested one captures the
    /// table, and every access to it in the loop would be checked for exclusivity at run time).
    static func moved(
        _ table: UnsafeMutableBufferPointer<Slot>, to capacity: Int, data: UnsafeBufferPointer<UInt8>, offsets o: UnsafeBufferPointer<Int32>, firsts: [Int32]
    ) -> UnsafeMutableBufferPointer<Slot> {
        let grown = UnsafeMutableBufferPointer<Slot>.allocate(capacity: capacity)
        grown.initialize(repeating: Slot())
        for old in table where old.entry >= 0 {
            // A short value's length is in its tag, its bytes in its word.
            let length = Int(old.tag & 0xff)
            let oh: UInt64
            if length <= 8 {
                oh = hash(word: old.word, count: length)
            } else {
                let first = Int(firsts[Int(old.entry)])
                let (os, oe) = (Int(o[first]), Int(o[first + 1]))
                oh = hash(data.baseAddress! + os, oe - os)
            }
            var t = Int(truncatingIfNeeded: oh) & (capacity - 1)
            while grown[t].entry >= 0 { t = (t + 1) & (capacity - 1) }
            grown[t] = old
        }
        table.deallocate()
        return grown
    }

    static func build(bytes: [UInt8], offsets: [Int32], fixed: Bool, limit: Int) -> DictionaryEncoding? {
        let count = offsets.count - 1
        var indices = [UInt32](repeating: 0, count: count)
        // Room for the sample's values; after it, for as many as the sample says the column holds.
        var capacity = DictionarySample.capacity(for: min(count, DictionarySample.size), loadNumerator: 3, loadDenominator: 4)
        var table = UnsafeMutableBufferPointer<Slot>.allocate(capacity: capacity)
        table.initialize(repeating: Slot())
        defer { table.deallocate() }
        var firstOccurrence: [Int32] = []
        // The page's size so far: the page itself is written once the entries are known (see below), rather
        // than appended to a value at a time.
        var pageBytes = 0
        let prefix = fixed ? 0 : 4
        var ok = true
        bytes.withUnsafeBufferPointer { data in
            offsets.withUnsafeBufferPointer { o in
                indices.withUnsafeMutableBufferPointer { out in
                    // The hash and (for a value of up to eight bytes) the word of the next `lookahead` values,
                    // value `i`'s at `i % lookahead`: the first `lookahead` steps only fill it.
                    let ahead = UnsafeMutablePointer<(hash: UInt64, word: UInt64)>.allocate(capacity: lookahead)
                    defer { ahead.deallocate() }
                    for i in -lookahead..<count {
                        let (h, word) = i >= 0 ? ahead[i % lookahead] : (0, 0)
                        let next = i + lookahead
                        if next < count {
                            let (ns, nl) = (Int(o[next]), Int(o[next + 1] - o[next]))
                            let nw = nl <= 8 ? Self.word(data, ns, nl) : 0
                            let nh = nl <= 8 ? hash(word: nw, count: nl) : hash(data.baseAddress! + ns, nl)
                            ahead[next % lookahead] = (nh, nw)
                            cprefetch_read(table.baseAddress! + (Int(truncatingIfNeeded: nh) & (capacity - 1)))
                        }
                        guard i >= 0 else { continue }
                        if i == DictionarySample.size {
                            if DictionarySample.givesUp(distinct: firstOccurrence.count, bytes: pageBytes, of: count, limit: limit) {
                                ok = false
                                return
                            }
                            // No more entries than the page limit holds at the sample's bytes per entry.
                            let most = limit / max(1, pageBytes / max(1, firstOccurrence.count)) + 1
                            let expected = DictionarySample.expectedDistinct(firstOccurrence.count, inFirst: DictionarySample.size, of: count)
                            let wanted = DictionarySample.capacity(for: min(expected, most), loadNumerator: 3, loadDenominator: 4)
                            if wanted > capacity {
                                table = moved(table, to: wanted, data: data, offsets: o, firsts: firstOccurrence)
                                capacity = wanted
                            }
                        }
                        let s = Int(o[i]), e = Int(o[i + 1]), length = e - s
                        let short = length <= 8
                        let t = tag(h, length)
                        var slot = Int(truncatingIfNeeded: h) & (capacity - 1)
                        var found: UInt32?
                        while table[slot].entry >= 0 {
                            let candidate = table[slot]
                            if candidate.tag == t {
                                if short {
                                    // The tag holds the exact length of a short value.
                                    if candidate.word == word {
                                        found = UInt32(candidate.entry)
                                        break
                                    }
                                } else {
                                    let first = Int(firstOccurrence[Int(candidate.entry)])
                                    let fs = Int(o[first])
                                    if Int(o[first + 1]) - fs == length, memcmp(data.baseAddress! + fs, data.baseAddress! + s, length) == 0 {
                                        found = UInt32(candidate.entry)
                                        break
                                    }
                                }
                            }
                            slot = (slot + 1) & (capacity - 1)
                        }
                        if let found {
                            out[i] = found
                            continue
                        }
                        let entry = firstOccurrence.count
                        firstOccurrence.append(Int32(i))
                        table[slot] = Slot(word: word, tag: t, entry: Int32(entry))
                        out[i] = UInt32(entry)
                        pageBytes += prefix + length
                        if pageBytes > limit { ok = false; return }
                        // Linear probing at up to three quarters full: a probe rarely leaves its cache line.
                        if firstOccurrence.count * 4 > capacity * 3 {
                            table = moved(table, to: capacity * 2, data: data, offsets: o, firsts: firstOccurrence)
                            capacity *= 2
                        }
                    }
                }
            }
        }
        guard ok else { return nil }
        let page = Self.page(bytes: bytes, offsets: offsets, firsts: firstOccurrence, size: pageBytes, fixed: fixed)
        return DictionaryEncoding(page: page, count: firstOccurrence.count, indices: indices, firsts: firstOccurrence)
    }

    /// The PLAIN dictionary page of the entries whose first occurrences are `firsts`, in that order: each
    /// value's bytes, after its 4-byte little-endian length unless the values have a fixed length; `size`
    /// bytes in all.
    static func page(bytes: [UInt8], offsets: [Int32], firsts: [Int32], size: Int, fixed: Bool) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: size) { out, initialized in
            bytes.withUnsafeBufferPointer { data in
                let prefix = fixed ? 0 : 4
                var p = 0
                for first in firsts {
                    let s = Int(offsets[Int(first)]), length = Int(offsets[Int(first) + 1]) - s
                    precondition(p + prefix + length <= size, "dictionary page larger than the \(size) bytes counted")
                    if prefix > 0 {
                        UnsafeMutableRawPointer(out.baseAddress! + p).storeBytes(of: UInt32(length).littleEndian, as: UInt32.self)
                        p += 4
                    }
                    if length > 0 { (out.baseAddress! + p).initialize(from: data.baseAddress! + s, count: length) }
                    p += length
                }
                precondition(p == size, "dictionary page of \(p) bytes, \(size) counted")
                initialized = p
            }
        }
    }
}

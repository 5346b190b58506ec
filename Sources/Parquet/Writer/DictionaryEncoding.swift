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

    static func build(bytes: [UInt8], offsets: [Int32], fixed: Bool, limit: Int) -> DictionaryEncoding? {
        let count = offsets.count - 1
        var indices = [UInt32](repeating: 0, count: count)
        var capacity = 1024
        var slots = [Int32](repeating: -1, count: capacity)  // value index of the first occurrence
        var hashes: [UInt64] = []
        var firstOccurrence: [Int32] = []
        var page: [UInt8] = []
        var ok = true
        bytes.withUnsafeBufferPointer { data in
            offsets.withUnsafeBufferPointer { o in
                indices.withUnsafeMutableBufferPointer { out in
                    for i in 0..<count {
                        if i == DictionarySample.size, DictionarySample.givesUp(distinct: hashes.count, bytes: page.count, of: count, limit: limit) {
                            ok = false
                            return
                        }
                        let s = Int(o[i]), e = Int(o[i + 1])
                        let h = e > s ? hash(data.baseAddress! + s, e - s) : 0
                        var slot = Int(truncatingIfNeeded: h) & (capacity - 1)
                        var found: UInt32?
                        while slots[slot] >= 0 {
                            let entry = Int(slots[slot])
                            if hashes[entry] == h {
                                let first = Int(firstOccurrence[entry])
                                let fs = Int(o[first]), fe = Int(o[first + 1])
                                if fe - fs == e - s && (e == s || memcmp(data.baseAddress! + fs, data.baseAddress! + s, e - s) == 0) {
                                    found = UInt32(entry)
                                    break
                                }
                            }
                            slot = (slot + 1) & (capacity - 1)
                        }
                        if let found {
                            out[i] = found
                            continue
                        }
                        let entry = hashes.count
                        hashes.append(h)
                        firstOccurrence.append(Int32(i))
                        slots[slot] = Int32(entry)
                        out[i] = UInt32(entry)
                        if !fixed {
                            let length = UInt32(e - s)
                            page.append(UInt8(truncatingIfNeeded: length))
                            page.append(UInt8(truncatingIfNeeded: length >> 8))
                            page.append(UInt8(truncatingIfNeeded: length >> 16))
                            page.append(UInt8(truncatingIfNeeded: length >> 24))
                        }
                        page.append(contentsOf: UnsafeBufferPointer(rebasing: data[s..<e]))
                        if page.count > limit { ok = false; return }
                        if hashes.count * 2 > capacity {
                            capacity *= 2
                            slots = [Int32](repeating: -1, count: capacity)
                            for (k, kh) in hashes.enumerated() {
                                var t = Int(truncatingIfNeeded: kh) & (capacity - 1)
                                while slots[t] >= 0 { t = (t + 1) & (capacity - 1) }
                                slots[t] = Int32(k)
                            }
                        }
                    }
                }
            }
        }
        return ok ? DictionaryEncoding(page: page, count: hashes.count, indices: indices, firsts: firstOccurrence) : nil
    }
}

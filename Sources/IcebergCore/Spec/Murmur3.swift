/// MurmurHash3 x86 32-bit with seed 0, the hash of the bucket transform (spec Appendix B).
enum Murmur3 {
    static func hash32(_ bytes: [UInt8]) -> Int32 {
        let c1: UInt32 = 0xcc9e_2d51, c2: UInt32 = 0x1b87_3593
        var h: UInt32 = 0
        let blocks = bytes.count / 4
        for i in 0..<blocks {
            var k = UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16
                | UInt32(bytes[4 * i + 3]) << 24
            k = (k &* c1).rotatedLeft(15) &* c2
            h ^= k
            h = h.rotatedLeft(13) &* 5 &+ 0xe654_6b64
        }
        var k: UInt32 = 0
        let tail = blocks * 4
        switch bytes.count & 3 {
        case 3:
            k ^= UInt32(bytes[tail + 2]) << 16
            fallthrough
        case 2:
            k ^= UInt32(bytes[tail + 1]) << 8
            fallthrough
        case 1:
            k ^= UInt32(bytes[tail])
            h ^= (k &* c1).rotatedLeft(15) &* c2
        default: break
        }
        h ^= UInt32(truncatingIfNeeded: bytes.count)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return Int32(bitPattern: h)
    }

    /// The spec's hash of a value: ints, longs, dates, times and timestamps hash as 8-byte little-endian
    /// longs; decimals as their minimal big-endian unscaled bytes; strings as UTF-8; uuids as 16 big-endian
    /// bytes; fixed and binary as their bytes. Booleans, floats and doubles are not bucketed.
    static func hash(_ value: Literal) -> Int32? {
        switch value {
        case .int(let v): hash32(Literal.littleEndian(Int64(v)))
        case .date(let v): hash32(Literal.littleEndian(Int64(v)))
        case .long(let v), .time(let v), .timestamp(let v), .timestamptz(let v): hash32(Literal.littleEndian(v))
        case .decimal, .string, .uuid, .fixed, .binary: hash32(value.binary)
        case .boolean, .float, .double: nil
        }
    }
}

extension UInt32 {
    fileprivate func rotatedLeft(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 - n)) }
}

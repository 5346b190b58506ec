import Testing

@testable import Parquet

/// The RLE / bit-packing hybrid encoder packs the stretches between runs from where they are in the input.
/// Its bytes must be exactly those of the straightforward encoder it replaced (kept here as the reference:
/// every value through a pending array), for every bit width and run structure, and decode back.
@Suite struct RLEHybridEncoderTests {
    /// The encoder as it was: values appended one by one to a pending array, packed a byte at a time.
    struct Reference {
        let bitWidth: Int
        var bytes: [UInt8] = []
        var pending: [UInt32] = []

        mutating func varint(_ value: Int) {
            var v = UInt64(value)
            while v >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
                v >>= 7
            }
            bytes.append(UInt8(v))
        }

        mutating func encode(_ values: [UInt32]) {
            let n = values.count
            var i = 0
            while i < n {
                let v = values[i]
                var run = 1
                while i + run < n && values[i + run] == v { run += 1 }
                if run >= 8 {
                    let take = min((8 - pending.count % 8) % 8, run)
                    for _ in 0..<take { pending.append(v) }
                    let rest = run - take
                    if rest >= 8 {
                        flush()
                        varint(rest << 1)
                        for b in 0..<((bitWidth + 7) / 8) { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * b))) }
                    } else {
                        for _ in 0..<rest { pending.append(v) }
                    }
                } else {
                    for k in 0..<run { pending.append(values[i + k]) }
                    if pending.count >= 504 && pending.count % 8 == 0 { flush() }
                }
                i += run
            }
        }

        mutating func flush() {
            guard !pending.isEmpty else { return }
            while pending.count % 8 != 0 { pending.append(0) }
            let groups = pending.count / 8
            varint(groups << 1 | 1)
            var buffer: UInt64 = 0
            var bits = 0
            for value in pending {
                buffer |= UInt64(value) << UInt64(bits)
                bits += bitWidth
                while bits >= 8 {
                    bytes.append(UInt8(truncatingIfNeeded: buffer))
                    buffer >>= 8
                    bits -= 8
                }
            }
            if bits > 0 { bytes.append(UInt8(truncatingIfNeeded: buffer)) }
            pending = []
        }
    }

    /// Values of `width` bits in runs of random lengths: short ones, runs of 8 and more, and long stretches
    /// without any run (past the 504 values at which a stretch is flushed).
    static func values(count: Int, width: Int, seed: UInt64) -> [UInt32] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 11
        }
        let mask: UInt64 = width == 0 ? 0 : width == 32 ? 0xffff_ffff : (1 << UInt64(width)) - 1
        var out: [UInt32] = []
        while out.count < count {
            let kind = next() % 10
            let length = kind < 6 ? Int(next() % 4) + 1 : kind < 9 ? Int(next() % 30) + 5 : Int(next() % 1_200) + 1
            if kind == 9 && next() % 2 == 0 {
                for _ in 0..<length { out.append(UInt32(truncatingIfNeeded: next() & mask)) }  // no run
            } else {
                out.append(contentsOf: repeatElement(UInt32(truncatingIfNeeded: next() & mask), count: length))
            }
        }
        return Array(out.prefix(count))
    }

    /// Encodes `values`, expecting the reference's bytes and the values decoded back.
    static func expectReferenceBytes(_ values: [UInt32], width: Int) throws {
        var reference = Reference(bitWidth: width)
        reference.encode(values)
        reference.flush()
        var encoder = RLEHybridEncoder(bitWidth: width)
        encoder.encode(values)
        let bytes = encoder.finish()
        #expect(bytes == reference.bytes, "width \(width), \(values.count) values")
        #expect(try RLEHybridDecoder.decode(bytes[...], bitWidth: width, count: values.count, source: "test") == values, "width \(width), \(values.count) values")
    }

    @Test func bytesAreThoseOfTheReferenceAndDecodeBack() throws {
        var cases = 0
        for width in 0...32 {
            for (k, count) in [0, 1, 7, 8, 9, 63, 504, 505, 1_000, 5_000].enumerated() {
                try Self.expectReferenceBytes(Self.values(count: count, width: width, seed: UInt64(width * 100 + k)), width: width)
                cases += 1
            }
        }
        #expect(cases == 330)
    }

    /// Dictionary indices as the writer meets them, where the encoder skips 32 values at a time: random picks
    /// from many values (user ids) and from few (countries: short runs, hardly ever one of 8), and from two
    /// (runs of 8 and more beside skipped blocks).
    @Test func randomIndicesAreThoseOfTheReference() throws {
        var state: UInt64 = 42
        for (width, distinct) in [(17, 100_000), (3, 8), (1, 2)] {
            let values = (0..<20_000).map { _ -> UInt32 in
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                return UInt32((state >> 33) % UInt64(distinct))
            }
            try Self.expectReferenceBytes(values, width: width)
        }
    }

    /// A level run of every row defined is what the encoder writes for it.
    @Test func aRunIsWhatTheEncoderWrites() {
        for (value, width, count) in [(UInt32(1), 1, 8), (1, 1, 131_072), (5, 3, 1_000), (70_000, 17, 9)] {
            var encoder = RLEHybridEncoder(bitWidth: width)
            encoder.encode([UInt32](repeating: value, count: count))
            #expect(RLEHybridEncoder.run(of: value, count: count, bitWidth: width) == encoder.finish())
        }
    }

    /// Two calls (not what the writer does, but allowed): the values carried from the first are packed with
    /// the second's, and everything decodes back in order.
    @Test func valuesCarriedBetweenCallsDecodeBack() throws {
        let values = Self.values(count: 3_000, width: 5, seed: 7)
        for cut in [0, 3, 8, 500, 1_501, 3_000] {
            var encoder = RLEHybridEncoder(bitWidth: 5)
            encoder.encode(Array(values[..<cut]))
            encoder.encode(Array(values[cut...]))
            let decoded = try RLEHybridDecoder.decode(encoder.finish()[...], bitWidth: 5, count: values.count, source: "test")
            #expect(decoded == values, "cut at \(cut)")
        }
    }
}

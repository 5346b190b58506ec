/// Parquet's RLE / bit-packing hybrid (parquet-format Encodings.md), for definition levels and
/// dictionary indices: runs of 8 or more equal values become RLE runs, the rest bit-packed groups of 8.
struct RLEHybridEncoder {
    let bitWidth: Int
    private(set) var bytes: [UInt8] = []
    /// Values left to bit-pack by an earlier ``encode(_:)`` (fewer than a group's worth, or a stretch not yet
    /// flushed): packed with the next call's first values, or padded by ``finish()``.
    private var pending: [UInt32] = []

    init(bitWidth: Int, capacity: Int = 0) {
        self.bitWidth = bitWidth
        bytes.reserveCapacity(capacity)
    }

    private mutating func varint(_ value: Int) { Self.varint(value, into: &bytes) }

    private static func varint(_ value: Int, into bytes: inout [UInt8]) {
        var v = UInt64(value)
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// What ``encode(_:)`` and ``finish()`` write for `count` (at least 8) copies of `value`: one RLE run.
    static func run(of value: UInt32, count: Int, bitWidth: Int) -> [UInt8] {
        precondition(count >= 8, "fewer than 8 values are bit-packed")
        var bytes: [UInt8] = []
        varint(count << 1, into: &bytes)
        for b in 0..<(bitWidth + 7) / 8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * b))) }
        return bytes
    }

    /// Whether a run of 8 equal values may start in `values[i ..< i + 32]` (`i + 36` at most the count).
    /// Such a run covers one of the blocks of four that start at `i`, `i + 4`, ..., `i + 32`, all equal
    /// there; when no block is, the 32 values are bit-packed without looking for runs one by one.
    @inline(__always)
    static func mayStartRun(_ values: UnsafeBufferPointer<UInt32>, at i: Int) -> Bool {
        var equal: UInt8 = 0
        var b = i
        while b <= i + 32 {
            let a = values[b]
            equal |= ((a ^ values[b + 1]) | (a ^ values[b + 2]) | (a ^ values[b + 3])) == 0 ? 1 : 0
            b += 4
        }
        return equal != 0
    }

    /// Encodes all of `values`. The values to bit-pack are a stretch of the input between runs, packed from
    /// where they are (no copy per value); only what is left at the end waits in `pending`.
    mutating func encode(_ values: UnsafeBufferPointer<UInt32>) {
        guard pending.isEmpty else {
            // Values carried from an earlier call come first: one buffer for both (callers encode once).
            let joined = pending + Array(values)
            pending = []
            joined.withUnsafeBufferPointer { encode($0) }
            return
        }
        let n = values.count
        var i = 0
        var start = 0  // values[start..<i] wait to be bit-packed
        while i < n {
            if i + 36 <= n, i + 32 - start < 504, !Self.mayStartRun(values, at: i) {
                // No run of 8 starts in the next 32 values, and the stretch waiting cannot reach the 504 values
                // at which it is packed: the scan below would only move past them. `i` may then fall inside a
                // shorter run; the scan goes on from there to the same run ends, so the bytes are the same.
                i += 32
                continue
            }
            let v = values[i]
            var run = 1
            while i + run < n && values[i + run] == v { run += 1 }
            if run >= 8 {
                // The values waiting are topped up to a multiple of 8 from the run, then the rest is an RLE run.
                let take = min((8 - (i - start) % 8) % 8, run)
                let rest = run - take
                if rest >= 8 {
                    pack(UnsafeBufferPointer(rebasing: values[start..<(i + take)]))
                    varint(rest << 1)
                    let byteWidth = (bitWidth + 7) / 8
                    for b in 0..<byteWidth { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * b))) }
                    start = i + run
                }
                i += run
            } else {
                i += run
                if i - start >= 504 && (i - start) % 8 == 0 {
                    pack(UnsafeBufferPointer(rebasing: values[start..<i]))
                    start = i
                }
            }
        }
        pending.append(contentsOf: UnsafeBufferPointer(rebasing: values[start..<n]))
    }

    mutating func encode(_ values: [UInt32]) { values.withUnsafeBufferPointer { encode($0) } }

    /// Bit-packs `values` as one run of groups of 8, the last group padded with zeros (nothing for none).
    private mutating func pack(_ values: UnsafeBufferPointer<UInt32>) {
        guard !values.isEmpty else { return }
        let groups = (values.count + 7) / 8
        varint(groups << 1 | 1)
        let first = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: groups * bitWidth))
        guard bitWidth > 0 else { return }
        let width = UInt64(bitWidth)
        bytes.withUnsafeMutableBufferPointer { out in
            let base = UnsafeMutableRawPointer(out.baseAddress!)
            var p = first
            var buffer: UInt64 = 0
            var bits: UInt64 = 0
            for value in values {
                // Fewer than 32 bits wait, so a value of up to 32 fits; four bytes go out at once. The run's
                // bytes are exactly its groups times the width, so a four-byte store never passes its end.
                buffer |= UInt64(value) << bits
                bits += width
                if bits >= 32 {
                    base.storeBytes(of: UInt32(truncatingIfNeeded: buffer).littleEndian, toByteOffset: p, as: UInt32.self)
                    p += 4
                    buffer >>= 32
                    bits -= 32
                }
            }
            // The padding values are zeros: the last partial bytes, then zero bytes already in place.
            while bits > 0 {
                out[p] = UInt8(truncatingIfNeeded: buffer)
                p += 1
                buffer >>= 8
                bits = bits > 8 ? bits - 8 : 0
            }
        }
    }

    /// The encoded bytes, with any pending values packed.
    mutating func finish() -> [UInt8] {
        let rest = pending
        pending = []
        rest.withUnsafeBufferPointer { pack($0) }
        return bytes
    }

    /// The bit width needed for values up to `maxValue`.
    static func bitWidth(for maxValue: Int) -> Int {
        maxValue == 0 ? 0 : (Int.bitWidth - maxValue.leadingZeroBitCount)
    }
}

/// Decodes the RLE / bit-packing hybrid, checking every run against the input and the expected count.
struct RLEHybridDecoder {
    static func decode(_ bytes: ArraySlice<UInt8>, bitWidth: Int, count: Int, source: String) throws -> [UInt32] {
        guard (0...32).contains(bitWidth) else { throw ParquetError(.corruptFile, "\(source): bit width \(bitWidth)") }
        var out: [UInt32] = []
        out.reserveCapacity(count)
        var i = bytes.startIndex
        let end = bytes.endIndex
        func varint() throws -> Int {
            var result = 0, shift = 0
            while true {
                guard i < end else { throw ParquetError(.corruptFile, "\(source): truncated RLE header") }
                let b = bytes[i]
                i += 1
                result |= Int(b & 0x7f) << shift
                if b & 0x80 == 0 { return result }
                shift += 7
                guard shift < 35 else { throw ParquetError(.corruptFile, "\(source): RLE header too long") }
            }
        }
        while out.count < count {
            let header = try varint()
            if header & 1 == 0 {
                let run = header >> 1
                let byteWidth = (bitWidth + 7) / 8
                guard end - i >= byteWidth else { throw ParquetError(.corruptFile, "\(source): truncated RLE run") }
                var value: UInt32 = 0
                for b in 0..<byteWidth { value |= UInt32(bytes[i + b]) << (8 * b) }
                i += byteWidth
                guard run > 0 else { throw ParquetError(.corruptFile, "\(source): empty RLE run") }
                out.append(contentsOf: repeatElement(value, count: min(run, count - out.count)))
            } else {
                let groups = header >> 1
                let needed = groups * bitWidth
                guard groups > 0, end - i >= needed else { throw ParquetError(.corruptFile, "\(source): truncated bit-packed run") }
                let mask: UInt64 = bitWidth == 32 ? 0xffff_ffff : (1 << UInt64(bitWidth)) - 1
                var buffer: UInt64 = 0
                var bits = 0
                var values = groups * 8
                var p = i
                while values > 0 && out.count < count {
                    while bits < bitWidth {
                        buffer |= UInt64(bytes[p]) << UInt64(bits)
                        p += 1
                        bits += 8
                    }
                    out.append(UInt32(buffer & mask))
                    buffer >>= UInt64(bitWidth)
                    bits -= bitWidth
                    values -= 1
                }
                i += needed
            }
        }
        return out
    }
}

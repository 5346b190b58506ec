/// Parquet's RLE / bit-packing hybrid (parquet-format Encodings.md), for definition levels and
/// dictionary indices: runs of 8 or more equal values become RLE runs, the rest bit-packed groups of 8.
struct RLEHybridEncoder {
    let bitWidth: Int
    private(set) var bytes: [UInt8] = []
    /// Values waiting to be bit-packed (a multiple of 8 before any RLE run is written).
    private var pending: [UInt32] = []

    init(bitWidth: Int, capacity: Int = 0) {
        self.bitWidth = bitWidth
        bytes.reserveCapacity(capacity)
        pending.reserveCapacity(64)
    }

    private mutating func varint(_ value: Int) {
        var v = UInt64(value)
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Encodes all of `values`.
    mutating func encode(_ values: UnsafeBufferPointer<UInt32>) {
        let n = values.count
        var i = 0
        while i < n {
            let v = values[i]
            var run = 1
            while i + run < n && values[i + run] == v { run += 1 }
            if run >= 8 {
                // Top the pending values up to a multiple of 8 from the run, then RLE the rest.
                var take = (8 - pending.count % 8) % 8
                take = min(take, run)
                for _ in 0..<take { pending.append(v) }
                let rest = run - take
                if rest >= 8 {
                    flushPending()
                    varint(rest << 1)
                    let byteWidth = (bitWidth + 7) / 8
                    for b in 0..<byteWidth { bytes.append(UInt8(truncatingIfNeeded: v >> (8 * b))) }
                } else {
                    for _ in 0..<rest { pending.append(v) }
                }
                i += run
            } else {
                for k in 0..<run { pending.append(values[i + k]) }
                i += run
                if pending.count >= 504 * 8 / 8 && pending.count % 8 == 0 { flushPending() }
            }
        }
    }

    mutating func encode(_ values: [UInt32]) { values.withUnsafeBufferPointer { encode($0) } }

    /// Bit-packs pending values (padding the last group with zeros).
    private mutating func flushPending() {
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
        pending.removeAll(keepingCapacity: true)
    }

    /// The encoded bytes, with any pending values packed.
    mutating func finish() -> [UInt8] {
        flushPending()
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


/// Hadoop's snappy block stream (Hadoop's BlockCompressorStream with SnappyCodec): blocks of a big-endian
/// 4-byte uncompressed length followed by one or more (big-endian 4-byte compressed length, snappy block)
/// pairs whose decompressed sizes add up to it. No checksums; lengths are checked.
package struct HadoopSnappyStream: StreamingDecompressor {
    /// Hadoop's default buffer is 256 KiB; writers rarely exceed a few MiB per block.
    static let maxBlock = 64 * 1024 * 1024

    private let source: String
    private var pending: [UInt8] = []
    private var consumed = 0
    /// Uncompressed bytes still owed by the current block; nil between blocks.
    private var remainingInBlock: Int?

    package init(source: String) { self.source = source }

    static func readBE32(_ bytes: [UInt8], _ offset: Int) -> Int {
        Int(bytes[offset]) << 24 | Int(bytes[offset + 1]) << 16 | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3])
    }

    /// Whether `prefix` plausibly starts a Hadoop snappy stream: sane lengths and a first chunk whose snappy
    /// header declares no more than the block's length.
    static func looksLikeHadoopSnappy(_ prefix: [UInt8]) -> Bool {
        guard prefix.count >= 9 else { return false }
        let total = readBE32(prefix, 0), chunk = readBE32(prefix, 4)
        guard total > 0, total <= maxBlock, chunk > 0, chunk <= Snappy.maxCompressedLength(total) else { return false }
        // The snappy block starts with its uncompressed length as a varint: it must fit in the block.
        var value = 0, shift = 0, index = 8
        while index < prefix.count && shift <= 28 {
            value |= Int(prefix[index] & 0x7f) << shift
            if prefix[index] & 0x80 == 0 { return value > 0 && value <= total }
            shift += 7
            index += 1
        }
        return false
    }

    package mutating func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        pending.append(contentsOf: bytes)
        var offset = 0
        while true {
            if remainingInBlock == nil {
                guard pending.count - offset >= 4 else { break }
                let total = Self.readBE32(pending, offset)
                guard total <= Self.maxBlock else { throw fail("block declares \(total) bytes", at: consumed + offset) }
                remainingInBlock = total
                offset += 4
            }
            if remainingInBlock == 0 { remainingInBlock = nil; continue }
            guard pending.count - offset >= 4 else { break }
            let chunkLength = Self.readBE32(pending, offset)
            guard chunkLength <= Snappy.maxCompressedLength(Self.maxBlock) else {
                throw fail("chunk declares \(chunkLength) compressed bytes", at: consumed + offset)
            }
            guard pending.count - offset - 4 >= chunkLength else { break }
            let position = consumed + offset
            let limit = remainingInBlock!
            let plain: [UInt8]
            do {
                plain = try Snappy.decompress(pending[offset + 4..<offset + 4 + chunkLength], limit: limit)
            } catch {
                throw fail(error.message, at: position)
            }
            remainingInBlock! -= plain.count
            offset += 4 + chunkLength
            if !plain.isEmpty { try emit(plain[...]) }
        }
        pending.removeFirst(offset)
        consumed += offset
    }

    package mutating func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws {
        if !pending.isEmpty || (remainingInBlock ?? 0) > 0 {
            throw fail("stream is truncated", at: consumed)
        }
    }

    private func fail(_ why: String, at position: Int) -> CodecError {
        CodecError("\(source): Hadoop snappy stream at byte \(position): \(why)")
    }
}

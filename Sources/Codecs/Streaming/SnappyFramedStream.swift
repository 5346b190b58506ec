
/// Snappy's framing format (github.com/google/snappy framing_format.txt): a stream identifier chunk, then
/// compressed (type 0x00) and uncompressed (0x01) chunks, each carrying the masked CRC-32C of its
/// uncompressed bytes, which is checked. Skippable chunks (0x80-0xfe) are skipped.
package struct SnappyFramedStream: StreamingDecompressor {
    static let streamIdentifier: [UInt8] = [0xff, 0x06, 0x00, 0x00] + Array("sNaPpY".utf8)
    /// The framing format bounds a chunk's uncompressed data to 65,536 bytes.
    static let maxUncompressedChunk = 65_536

    private let source: String
    private var pending: [UInt8] = []
    private var consumed = 0  // compressed bytes before `pending`, for error messages
    private var sawIdentifier = false

    package init(source: String) { self.source = source }

    package mutating func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        pending.append(contentsOf: bytes)
        var offset = 0
        while pending.count - offset >= 4 {
            let type = pending[offset]
            let length = Int(pending[offset + 1]) | Int(pending[offset + 2]) << 8 | Int(pending[offset + 3]) << 16
            guard pending.count - offset - 4 >= length else { break }
            let body = offset + 4..<offset + 4 + length
            try decodeChunk(type: type, body: body, at: consumed + offset, emit: emit)
            offset += 4 + length
        }
        pending.removeFirst(offset)
        consumed += offset
    }

    package mutating func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws {
        if !pending.isEmpty {
            throw CodecError(
                "\(source): snappy framed stream is truncated: \(pending.count) bytes of an unfinished chunk at byte \(consumed)")
        }
    }

    private mutating func decodeChunk(
        type: UInt8, body: Range<Int>, at position: Int, emit: (ArraySlice<UInt8>) throws -> Void
    ) throws {
        func fail(_ why: String) -> CodecError {
            CodecError("\(source): snappy framed chunk at byte \(position): \(why)")
        }
        if !sawIdentifier {
            guard type == 0xff else { throw fail("stream does not start with the sNaPpY identifier") }
        }
        switch type {
        case 0xff:
            guard pending[body].elementsEqual(Self.streamIdentifier[4...]) else { throw fail("bad stream identifier") }
            sawIdentifier = true
        case 0x00, 0x01:
            guard body.count >= 4 else { throw fail("chunk shorter than its checksum") }
            let expected = UInt32(pending[body.lowerBound]) | UInt32(pending[body.lowerBound + 1]) << 8
                | UInt32(pending[body.lowerBound + 2]) << 16 | UInt32(pending[body.lowerBound + 3]) << 24
            let data = body.lowerBound + 4..<body.upperBound
            let plain: [UInt8]
            if type == 0x01 {
                plain = Array(pending[data])
            } else {
                do {
                    plain = try Snappy.decompress(pending[data], limit: Self.maxUncompressedChunk)
                } catch {
                    throw fail(error.message)
                }
            }
            guard plain.count <= Self.maxUncompressedChunk else { throw fail("chunk over 65,536 bytes") }
            let actual = plain.withUnsafeBytes { Checksum.maskedCRC32C($0) }
            guard actual == expected else { throw fail("CRC-32C mismatch (stored \(expected), computed \(actual))") }
            if !plain.isEmpty { try emit(plain[...]) }
        case 0x02...0x7f:
            throw fail("reserved unskippable chunk type \(type)")
        default:
            break  // 0x80...0xfe: skippable (padding and reserved)
        }
    }
}

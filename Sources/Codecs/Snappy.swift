import CSnappy

/// Snappy blocks (the raw format, no framing).
package enum Snappy {
    package static func maxCompressedLength(_ length: Int) -> Int { snappy_max_compressed_length(length) }

    package static func compress(_ data: [UInt8]) throws(CodecError) -> [UInt8] {
        var length = snappy_max_compressed_length(data.count)
        var out = [UInt8](repeating: 0, count: max(length, 1))
        let source = data.isEmpty ? [0] : data
        let status = source.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                snappy_compress(
                    src.baseAddress!.assumingMemoryBound(to: CChar.self), data.count,
                    dst.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
            }
        }
        guard status == SNAPPY_OK else { throw CodecError("snappy compression failed") }
        out.removeSubrange(length...)
        return out
    }

    /// The uncompressed length a block declares (its varint header), or nil when the header is invalid.
    package static func uncompressedLength(_ block: UnsafeRawBufferPointer) -> Int? {
        var length = 0
        guard let base = block.baseAddress,
            snappy_uncompressed_length(base.assumingMemoryBound(to: CChar.self), block.count, &length) == SNAPPY_OK
        else { return nil }
        return length
    }

    /// Decompresses one block. Its declared length may not pass `limit`; with `exactSize`, it must be that.
    package static func decompress(_ block: UnsafeRawBufferPointer, limit: Int, exactSize: Int? = nil) throws(CodecError) -> [UInt8] {
        if block.isEmpty, exactSize == 0 { return [] }
        guard let length = uncompressedLength(block) else { throw CodecError("snappy block header is invalid") }
        guard length <= limit else { throw CodecError("snappy block declares \(length) bytes, over the limit of \(limit)") }
        if let exactSize, length != exactSize { throw CodecError("snappy block declares \(length) bytes, expected \(exactSize)") }
        var written = length
        var output = [UInt8](repeating: 0, count: max(length, 1))
        let status = output.withUnsafeMutableBytes { out in
            snappy_uncompress(
                block.baseAddress!.assumingMemoryBound(to: CChar.self), block.count,
                out.baseAddress!.assumingMemoryBound(to: CChar.self), &written)
        }
        guard status == SNAPPY_OK, written == length else { throw CodecError("snappy block does not decompress") }
        output.removeSubrange(length...)
        return output
    }

    package static func decompress(_ block: ArraySlice<UInt8>, limit: Int, exactSize: Int? = nil) throws(CodecError) -> [UInt8] {
        let copy = Array(block)
        var result: Result<[UInt8], CodecError> = .success([])
        copy.withUnsafeBytes { raw in result = Result { () throws(CodecError) in try decompress(raw, limit: limit, exactSize: exactSize) } }
        return try result.get()
    }
}

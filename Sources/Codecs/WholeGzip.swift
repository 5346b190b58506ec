import CLibdeflate

/// Whole gzip objects decompressed at once with libdeflate, about twice as fast as zlib's streaming inflate
/// (80 MB of JSON lines: 0.12 s against 0.25 s here). Every member of a multi-member object is decoded in
/// turn into one buffer of at most `limit` bytes. Anything else (output past the limit, damaged or truncated
/// input, bytes after the last member) gives nil, and the caller streams the object through ``GzipStream``,
/// which bounds memory whatever the size and reports the damage precisely.
///
/// ```swift
/// if let text = WholeGzip.decompress(object, limit: 32 << 20) { parse(text) } else { stream(object) }
/// ```
package enum WholeGzip {
    package static func decompress(_ input: [UInt8], limit: Int) -> [UInt8]? {
        guard input.count >= 18, let decompressor = libdeflate_alloc_decompressor() else { return nil }
        defer { libdeflate_free_decompressor(decompressor) }
        // The last member's trailer holds its size mod 2^32: the size of the whole for one member.
        let last = input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
        var capacity = min(limit, max(last, input.count * 4, 1 << 16))
        var output = [UInt8](repeating: 0, count: capacity)
        var consumed = 0
        var produced = 0
        while consumed < input.count {
            var used = 0
            var written = 0
            let result = input.withUnsafeBytes { inBuf in
                output.withUnsafeMutableBytes { outBuf in
                    libdeflate_gzip_decompress_ex(
                        decompressor, inBuf.baseAddress! + consumed, inBuf.count - consumed, outBuf.baseAddress! + produced, outBuf.count - produced,
                        &used, &written)
                }
            }
            switch result {
            case LIBDEFLATE_SUCCESS:
                consumed += used
                produced += written
            case LIBDEFLATE_INSUFFICIENT_SPACE where capacity < limit:
                capacity = min(limit, capacity * 2)
                output += [UInt8](repeating: 0, count: capacity - output.count)
            default:
                return nil
            }
        }
        output.removeSubrange(produced...)
        return output
    }
}

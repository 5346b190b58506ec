import CSnappy
import CZlib
import CZstd

/// Compresses and decompresses page bodies.
enum PageCompressor {
    static func compress(_ data: [UInt8], _ codec: ParquetCompression, zstdLevel: Int32) throws -> [UInt8] {
        switch codec {
        case .uncompressed: return data
        case .snappy:
            var length = snappy_max_compressed_length(data.count)
            var out = [UInt8](repeating: 0, count: max(length, 1))
            let status = data.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    snappy_compress(src.baseAddress?.assumingMemoryBound(to: CChar.self) ?? UnsafePointer<CChar>(bitPattern: 1)!, data.count,
                                    dst.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
                }
            }
            guard status == SNAPPY_OK else { throw ParquetError(.io, "snappy compression failed") }
            out.removeSubrange(length...)
            return out
        case .zstd:
            var out = [UInt8](repeating: 0, count: ZSTD_compressBound(data.count))
            let written = out.withUnsafeMutableBytes { dst in
                data.withUnsafeBytes { ZSTD_compress(dst.baseAddress, dst.count, $0.baseAddress, $0.count, zstdLevel) }
            }
            guard ZSTD_isError(written) == 0 else { throw ParquetError(.io, "zstd compression failed") }
            out.removeSubrange(written...)
            return out
        case .gzip:
            var stream = z_stream()
            guard czlib_deflate_init2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
                throw ParquetError(.io, "gzip: cannot initialise zlib")
            }
            defer { deflateEnd(&stream) }
            var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 32)
            var input = data
            let produced: Int = try input.withUnsafeMutableBufferPointer { src in
                try out.withUnsafeMutableBufferPointer { dst in
                    stream.next_in = src.baseAddress
                    stream.avail_in = uInt(src.count)
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    guard CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END else { throw ParquetError(.io, "gzip compression failed") }
                    return dst.count - Int(stream.avail_out)
                }
            }
            out.removeSubrange(produced...)
            return out
        }
    }

    /// Decompresses a page to exactly `size` bytes.
    static func decompress(_ data: ArraySlice<UInt8>, _ codec: ParquetCompression, size: Int, source: String) throws -> [UInt8] {
        func corrupt(_ what: String) -> ParquetError { ParquetError(.corruptFile, "\(source): \(codec.name) page: \(what)") }
        guard size >= 0, size <= 1 << 30 else { throw corrupt("impossible page size \(size)") }
        switch codec {
        case .uncompressed:
            guard data.count == size else { throw corrupt("size \(data.count), expected \(size)") }
            return Array(data)
        case .snappy:
            var length = 0
            let input = Array(data)
            guard !input.isEmpty || size == 0 else { throw corrupt("empty") }
            if size == 0 { return [] }
            let ok = input.withUnsafeBytes { snappy_uncompressed_length($0.baseAddress!.assumingMemoryBound(to: CChar.self), input.count, &length) }
            guard ok == SNAPPY_OK, length == size else { throw corrupt("bad length header") }
            var out = [UInt8](repeating: 0, count: size)
            let status = input.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { snappy_uncompress(src.baseAddress!.assumingMemoryBound(to: CChar.self), input.count, $0.baseAddress!.assumingMemoryBound(to: CChar.self), &length) }
            }
            guard status == SNAPPY_OK, length == size else { throw corrupt("invalid data") }
            return out
        case .zstd:
            var out = [UInt8](repeating: 0, count: max(size, 1))
            let written = out.withUnsafeMutableBytes { dst in
                data.withUnsafeBytes { ZSTD_decompress(dst.baseAddress, size, $0.baseAddress, $0.count) }
            }
            guard ZSTD_isError(written) == 0, written == size else { throw corrupt("invalid data") }
            out.removeSubrange(size...)
            return out
        case .gzip:
            var stream = z_stream()
            guard czlib_inflate_init2(&stream, 15 + 32) == Z_OK else { throw corrupt("cannot initialise zlib") }
            defer { inflateEnd(&stream) }
            var input = Array(data)
            var out = [UInt8](repeating: 0, count: max(size, 1))
            let produced: Int = try input.withUnsafeMutableBufferPointer { src in
                try out.withUnsafeMutableBufferPointer { dst in
                    stream.next_in = src.baseAddress
                    stream.avail_in = uInt(src.count)
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(size)
                    let rc = inflate(&stream, Z_FINISH)
                    guard rc == Z_STREAM_END else { throw corrupt("invalid data (\(rc))") }
                    return size - Int(stream.avail_out)
                }
            }
            guard produced == size else { throw corrupt("inflated \(produced) bytes, expected \(size)") }
            out.removeSubrange(size...)
            return out
        }
    }
}

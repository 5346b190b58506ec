import CSnappy
import CZlib
import CZstd

/// Block compression of object container files (`avro.codec`).
package enum AvroCodec: String, Sendable, CaseIterable {
    case null
    /// Raw deflate (RFC 1951), no zlib header.
    case deflate
    /// A snappy block followed by the big-endian CRC-32 of the uncompressed data.
    case snappy
    case zstandard

    package func compress(_ data: [UInt8], level: Int32? = nil) throws -> [UInt8] {
        switch self {
        case .null: return data
        case .deflate:
            var stream = z_stream()
            guard czlib_deflate_init2(&stream, level ?? Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
                throw AvroError(.unsupportedCodec, "deflate: cannot initialise zlib")
            }
            defer { deflateEnd(&stream) }
            var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 16)
            var input = data
            let produced: Int = try input.withUnsafeMutableBufferPointer { src in
                try out.withUnsafeMutableBufferPointer { dst in
                    stream.next_in = src.baseAddress
                    stream.avail_in = uInt(src.count)
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    guard CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END else { throw AvroError(.corruptData, "deflate failed") }
                    return dst.count - Int(stream.avail_out)
                }
            }
            return Array(out.prefix(produced))
        case .snappy:
            var length = snappy_max_compressed_length(data.count)
            var out = [UInt8](repeating: 0, count: length + 4)
            let source = data.isEmpty ? [0] : data
            let status = source.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    snappy_compress(src.baseAddress!.assumingMemoryBound(to: CChar.self), data.count,
                                    dst.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
                }
            }
            guard status == SNAPPY_OK else { throw AvroError(.corruptData, "snappy compression failed") }
            let crc = UInt32(crc32(0, data, uInt(data.count)))
            out.removeSubrange(length...)
            out += [UInt8(crc >> 24), UInt8(truncatingIfNeeded: crc >> 16), UInt8(truncatingIfNeeded: crc >> 8), UInt8(truncatingIfNeeded: crc)]
            return out
        case .zstandard:
            var out = [UInt8](repeating: 0, count: ZSTD_compressBound(data.count))
            let written = out.withUnsafeMutableBytes { dst in
                data.withUnsafeBytes { ZSTD_compress(dst.baseAddress, dst.count, $0.baseAddress, $0.count, level ?? 3) }
            }
            guard ZSTD_isError(written) == 0 else { throw AvroError(.corruptData, "zstd compression failed") }
            return Array(out.prefix(written))
        }
    }

    /// Decompresses a block; `limit` caps the output so a corrupt block cannot exhaust memory.
    package func decompress(_ data: ArraySlice<UInt8>, limit: Int, source: String) throws -> [UInt8] {
        func corrupt(_ what: String) -> AvroError { AvroError(.corruptData, "\(source): \(rawValue) block: \(what)") }
        switch self {
        case .null: return Array(data)
        case .deflate:
            var stream = z_stream()
            guard czlib_inflate_init2(&stream, -15) == Z_OK else { throw corrupt("cannot initialise zlib") }
            defer { inflateEnd(&stream) }
            var input = Array(data)
            var out: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 64 * 1024)
            try input.withUnsafeMutableBufferPointer { src in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                while true {
                    let (rc, produced): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { dst in
                        stream.next_out = dst.baseAddress
                        stream.avail_out = uInt(dst.count)
                        let rc = inflate(&stream, Z_NO_FLUSH)
                        return (rc, dst.count - Int(stream.avail_out))
                    }
                    out.append(contentsOf: chunk.prefix(produced))
                    guard out.count <= limit else { throw corrupt("inflates past \(limit) bytes") }
                    if rc == Z_STREAM_END { return }
                    guard rc == Z_OK || (rc == Z_BUF_ERROR && produced > 0) else { throw corrupt("invalid deflate data") }
                    if stream.avail_in == 0 && produced == 0 { throw corrupt("truncated deflate data") }
                }
            }
            return out
        case .snappy:
            guard data.count >= 4 else { throw corrupt("shorter than its checksum") }
            let body = data.dropLast(4)
            var length = 0
            let source = body.isEmpty ? [0] : Array(body)
            guard source.withUnsafeBytes({ snappy_uncompressed_length($0.baseAddress!.assumingMemoryBound(to: CChar.self), body.count, &length) }) == SNAPPY_OK,
                length <= limit
            else { throw corrupt("invalid length header") }
            var out = [UInt8](repeating: 0, count: max(length, 1))
            let status = source.withUnsafeBytes { src in
                out.withUnsafeMutableBytes { dst in
                    snappy_uncompress(src.baseAddress!.assumingMemoryBound(to: CChar.self), body.count,
                                      dst.baseAddress!.assumingMemoryBound(to: CChar.self), &length)
                }
            }
            guard status == SNAPPY_OK else { throw corrupt("invalid snappy data") }
            out.removeSubrange(length...)
            let tail = Array(data.suffix(4))
            let stored = UInt32(tail[0]) << 24 | UInt32(tail[1]) << 16 | UInt32(tail[2]) << 8 | UInt32(tail[3])
            guard UInt32(crc32(0, out, uInt(out.count))) == stored else { throw corrupt("CRC-32 mismatch") }
            return out
        case .zstandard:
            let input = Array(data)
            var out: [UInt8] = []
            guard let stream = ZSTD_createDStream() else { throw corrupt("cannot allocate a zstd stream") }
            defer { ZSTD_freeDStream(stream) }
            var chunk = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
            var last = 0
            try input.withUnsafeBytes { src in
                var inBuffer = ZSTD_inBuffer(src: src.baseAddress, size: src.count, pos: 0)
                repeat {
                    var outBuffer = ZSTD_outBuffer(dst: nil, size: 0, pos: 0)
                    last = chunk.withUnsafeMutableBytes { dst in
                        outBuffer = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                        return ZSTD_decompressStream(stream, &outBuffer, &inBuffer)
                    }
                    guard ZSTD_isError(last) == 0 else { throw corrupt(String(cString: ZSTD_getErrorName(last))) }
                    out.append(contentsOf: chunk.prefix(outBuffer.pos))
                    guard out.count <= limit else { throw corrupt("inflates past \(limit) bytes") }
                    if outBuffer.pos < chunk.count && inBuffer.pos == inBuffer.size { break }
                } while true
            }
            guard last == 0 else { throw corrupt("truncated frame") }
            return out
        }
    }
}

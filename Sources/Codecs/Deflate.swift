import CZlib

/// Deflate (RFC 1951) in its three framings, over zlib.
package enum Deflate {
    package enum Framing: Sendable {
        /// Raw deflate, no header (Avro's `deflate` codec).
        case raw
        /// zlib's header and Adler-32 (RFC 1950).
        case zlib
        /// gzip's header and CRC-32 (RFC 1952; Parquet's `GZIP`).
        case gzip
        /// Reading only: gzip or zlib, whichever the header says.
        case gzipOrZlib

        var windowBits: Int32 {
            switch self {
            case .raw: -15
            case .zlib: 15
            case .gzip: 15 + 16
            case .gzipOrZlib: 15 + 32
            }
        }
    }

    /// Compresses `data` whole.
    package static func compress(_ data: [UInt8], framing: Framing, level: Int32 = Z_DEFAULT_COMPRESSION) throws(CodecError) -> [UInt8] {
        var stream = z_stream()
        guard czlib_deflate_init2(&stream, level, Z_DEFLATED, framing.windowBits, 8, Z_DEFAULT_STRATEGY) == Z_OK else {
            throw CodecError("deflate: cannot initialise zlib", kind: .resources)
        }
        defer { deflateEnd(&stream) }
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, uLong(data.count))) + 32)
        var input = data
        let produced: Int? = input.withUnsafeMutableBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                stream.next_in = src.baseAddress
                stream.avail_in = uInt(src.count)
                stream.next_out = dst.baseAddress
                stream.avail_out = uInt(dst.count)
                guard CZlib.deflate(&stream, Z_FINISH) == Z_STREAM_END else { return nil }
                return dst.count - Int(stream.avail_out)
            }
        }
        guard let produced else { throw CodecError("deflate failed") }
        out.removeSubrange(produced...)
        return out
    }

    /// Inflates one stream whole. The output may not pass `limit` bytes (a damaged or hostile stream cannot
    /// exhaust memory); with `exactSize`, it must be that long.
    package static func inflate(
        _ data: ArraySlice<UInt8>, framing: Framing, limit: Int, exactSize: Int? = nil
    ) throws(CodecError) -> [UInt8] {
        var stream = z_stream()
        guard czlib_inflate_init2(&stream, framing.windowBits) == Z_OK else { throw CodecError("cannot initialise zlib", kind: .resources) }
        defer { inflateEnd(&stream) }
        var input = Array(data)
        var out: [UInt8] = []
        if let exactSize { out.reserveCapacity(exactSize) }
        var chunk = [UInt8](repeating: 0, count: min(max(exactSize ?? 0, 64 * 1024), 1 << 20))
        var failure: CodecError?
        input.withUnsafeMutableBufferPointer { src in
            stream.next_in = src.baseAddress
            stream.avail_in = uInt(src.count)
            while true {
                let (rc, produced): (Int32, Int) = chunk.withUnsafeMutableBufferPointer { dst in
                    stream.next_out = dst.baseAddress
                    stream.avail_out = uInt(dst.count)
                    let rc = CZlib.inflate(&stream, Z_NO_FLUSH)
                    return (rc, dst.count - Int(stream.avail_out))
                }
                out.append(contentsOf: chunk.prefix(produced))
                if out.count > limit { failure = CodecError("inflates past \(limit) bytes"); return }
                if rc == Z_STREAM_END { return }
                guard rc == Z_OK || (rc == Z_BUF_ERROR && produced > 0) else {
                    let detail = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                    failure = CodecError("invalid deflate data (\(detail))")
                    return
                }
                if stream.avail_in == 0 && produced == 0 { failure = CodecError("truncated deflate data"); return }
            }
        }
        if let failure { throw failure }
        if let exactSize, out.count != exactSize { throw CodecError("inflated \(out.count) bytes, expected \(exactSize)") }
        return out
    }
}

import CZlib

/// Streaming gzip decompression over zlib, including concatenated members (each member is decoded in turn).
/// A class because it owns a `z_stream`, which must not move while zlib holds pointers into it.
package final class GzipStream: StreamingDecompressor {
    private var stream = z_stream()
    private let source: String
    private var output = [UInt8](repeating: 0, count: 256 * 1024)
    /// True between a member's end and the next byte of input (where a new member may start).
    private var atMemberBoundary = true
    private var consumedAny = false

    package init(source: String) throws(CodecError) {
        self.source = source
        // 15 + 16: gzip framing only (zlib-wrapped or raw deflate is not what .gz objects hold).
        let rc = czlib_inflate_init2(&stream, 15 + 16)
        guard rc == Z_OK else {
            throw CodecError("\(source): zlib inflateInit2 failed (\(rc))")
        }
    }

    deinit { inflateEnd(&stream) }

    package func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        guard !bytes.isEmpty else { return }
        consumedAny = true
        var input = Array(bytes)
        var offset = 0
        while offset < input.count {
            atMemberBoundary = false
            let (consumed, produced, rc): (Int, Int, Int32) = input.withUnsafeMutableBufferPointer { inBuf in
                output.withUnsafeMutableBufferPointer { outBuf in
                    stream.next_in = inBuf.baseAddress! + offset
                    stream.avail_in = uInt(inBuf.count - offset)
                    stream.next_out = outBuf.baseAddress
                    stream.avail_out = uInt(outBuf.count)
                    let rc = inflate(&stream, Z_NO_FLUSH)
                    return (inBuf.count - offset - Int(stream.avail_in), outBuf.count - Int(stream.avail_out), rc)
                }
            }
            offset += consumed
            if produced > 0 { try emit(output[0..<produced]) }
            let progressed = produced > 0 || consumed > 0
            switch rc {
            case Z_OK where progressed, Z_BUF_ERROR where progressed:
                continue
            case Z_STREAM_END:
                // Another gzip member may follow (concatenated .gz files): start over on the rest.
                inflateReset(&stream)
                atMemberBoundary = true
            default:
                let detail = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw CodecError(
                    "\(source): gzip stream is corrupt near compressed byte \(stream.total_in): \(detail)")
            }
        }
        input.removeAll()
    }

    package func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws {
        if consumedAny && !atMemberBoundary {
            throw CodecError("\(source): gzip stream is truncated (no end of member)")
        }
    }
}

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
    /// Compressed bytes consumed by earlier calls of ``feed(_:emit:)``, for the offsets in messages.
    private var consumedBefore: Int64 = 0
    /// Members decoded to their end so far.
    private var members = 0
    /// Where the current member starts in the object, and whether it has given any output yet.
    private var memberStart: Int64 = 0
    private var memberProduced = false

    package init(source: String) throws(CodecError) {
        self.source = source
        // 15 + 16: gzip framing only (zlib-wrapped or raw deflate is not what .gz objects hold).
        let rc = czlib_inflate_init2(&stream, 15 + 16)
        guard rc == Z_OK else {
            throw CodecError("\(source): zlib inflateInit2 failed (\(rc))", kind: .resources)
        }
    }

    deinit { inflateEnd(&stream) }

    package func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        guard !bytes.isEmpty else { return }
        consumedAny = true
        var input = Array(bytes)
        var offset = 0
        while offset < input.count {
            if atMemberBoundary {
                memberStart = consumedBefore + Int64(offset)
                memberProduced = false
            }
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
            if produced > 0 {
                memberProduced = true
                try emit(output[0..<produced])
            }
            let progressed = produced > 0 || consumed > 0
            switch rc {
            case Z_OK where progressed, Z_BUF_ERROR where progressed:
                continue
            case Z_STREAM_END:
                // Another gzip member may follow (concatenated .gz files): start over on the rest.
                inflateReset(&stream)
                atMemberBoundary = true
                members += 1
            default:
                // zlib's total_in restarts with each member: the offset here is the object's.
                let at = consumedBefore + Int64(offset)
                let detail = stream.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                if members > 0, !memberProduced {
                    throw CodecError("\(source): the bytes after gzip member \(members) (from compressed byte \(memberStart)) are not a gzip member: \(detail)")
                }
                throw CodecError("\(source): gzip stream is corrupt near compressed byte \(at): \(detail)")
            }
        }
        consumedBefore += Int64(input.count)
        input.removeAll()
    }

    package func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws {
        if consumedAny && !atMemberBoundary {
            throw CodecError("\(source): gzip stream is truncated (no end of member)")
        }
    }
}

import CZstd

/// Zstandard (RFC 8878) frames.
package enum Zstd {
    package static func compressBound(_ length: Int) -> Int { ZSTD_compressBound(length) }

    private static func name(_ code: Int) -> String { String(cString: ZSTD_getErrorName(code)) }

    /// Compresses `data` into one frame.
    package static func compress(_ data: [UInt8], level: Int32) throws(CodecError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(data.count))
        let written = out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { ZSTD_compress(dst.baseAddress, dst.count, $0.baseAddress, $0.count, level) }
        }
        guard ZSTD_isError(written) == 0 else { throw CodecError("zstd compression failed: \(name(written))") }
        out.removeSubrange(written...)
        return out
    }

    /// A compression context for many frames with one setting (level, content checksum).
    package final class Compressor {
        private let context: OpaquePointer

        package init(level: Int32, checksum: Bool) throws(CodecError) {
            guard let context = ZSTD_createCCtx() else { throw CodecError("cannot allocate a zstd context", kind: .resources) }
            self.context = context
            ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
            ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0)
        }

        deinit { ZSTD_freeCCtx(context) }

        /// Compresses `raw` into `destination` (at least ``Zstd/compressBound(_:)`` long); returns the bytes written.
        package func compress(_ raw: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(CodecError) -> Int {
            let written = ZSTD_compress2(context, destination.baseAddress, destination.count, raw.baseAddress, raw.count)
            guard ZSTD_isError(written) == 0 else { throw CodecError("zstd compression failed: \(Zstd.name(written))") }
            return written
        }
    }

    /// The content size a frame declares, or nil when it does not declare one (or is not a frame).
    package static func frameContentSize(_ frame: UnsafeRawBufferPointer) -> UInt64? {
        let size = ZSTD_getFrameContentSize(frame.baseAddress, frame.count)
        return size >= UInt64.max - 1 ? nil : size  // ZSTD_CONTENTSIZE_UNKNOWN / _ERROR
    }

    /// Decompresses frames of exactly `destination.count` bytes in all.
    package static func decompress(_ frame: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) throws(CodecError) {
        let written = ZSTD_decompress(destination.baseAddress, destination.count, frame.baseAddress, frame.count)
        guard ZSTD_isError(written) == 0 else { throw CodecError("zstd data is damaged: \(name(written))") }
        guard written == destination.count else { throw CodecError("zstd data holds \(written) bytes, expected \(destination.count)") }
    }

    /// Decompresses frames of exactly `size` bytes in all.
    package static func decompress(_ data: ArraySlice<UInt8>, size: Int) throws(CodecError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: size)
        var failure: CodecError?
        data.withUnsafeBytes { src in
            out.withUnsafeMutableBytes { dst in
                do throws(CodecError) { try decompress(src, into: dst) } catch { failure = error }
            }
        }
        if let failure { throw failure }
        return out
    }

    /// Decompresses one or more frames whole, streaming (the frames need not declare their size); the output
    /// may not pass `limit` bytes.
    package static func decompress(_ data: ArraySlice<UInt8>, limit: Int) throws(CodecError) -> [UInt8] {
        var out: [UInt8] = []
        do {
            let stream = try ZstdStream(source: "zstd data")
            let emit: (ArraySlice<UInt8>) throws -> Void = { piece in
                out.append(contentsOf: piece)
                if out.count > limit { throw CodecError("inflates past \(limit) bytes") }
            }
            try stream.feed(data, emit: emit)
            try stream.finish(emit: emit)
        } catch let error as CodecError {
            throw error
        } catch {
            throw CodecError("\(error)")
        }
        return out
    }
}

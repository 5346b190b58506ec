import CZstd

/// Streaming Zstandard decompression; consecutive frames are decoded in turn.
/// A class because it owns a `ZSTD_DStream`.
package final class ZstdStream: StreamingDecompressor {
    private let stream: OpaquePointer
    private let source: String
    private var output = [UInt8](repeating: 0, count: ZSTD_DStreamOutSize())
    /// zstd's hint after the last call: 0 when a frame has just ended.
    private var lastHint = 0

    package init(source: String) throws(CodecError) {
        self.source = source
        guard let stream = ZSTD_createDStream() else {
            throw CodecError("\(source): cannot allocate a zstd stream", kind: .resources)
        }
        self.stream = stream
        ZSTD_initDStream(stream)
    }

    deinit { ZSTD_freeDStream(stream) }

    package func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        try bytes.withUnsafeBytes { inRaw in
            var input = ZSTD_inBuffer(src: inRaw.baseAddress, size: inRaw.count, pos: 0)
            // Go on while input remains or the output came back full (zstd may hold more output).
            var produced = 0
            repeat {
                var out = ZSTD_outBuffer(dst: nil, size: 0, pos: 0)
                let hint = output.withUnsafeMutableBytes { outRaw in
                    out = ZSTD_outBuffer(dst: outRaw.baseAddress, size: outRaw.count, pos: 0)
                    return ZSTD_decompressStream(stream, &out, &input)
                }
                produced = out.pos
                if ZSTD_isError(hint) != 0 {
                    throw CodecError(
                        "\(source): zstd stream is corrupt: \(String(cString: ZSTD_getErrorName(hint)))", kind: Self.kind(ofError: hint))
                }
                lastHint = hint
                if produced > 0 { try emit(output[0..<produced]) }
            } while input.pos < input.size || produced == output.count
        }
    }

    /// What a zstd error says of the input: a frame needing more memory than the decoder allows, or a
    /// dictionary, is well formed but not read here; a failed allocation says nothing of it; the rest is damage.
    static func kind(ofError code: Int) -> CodecError.Kind {
        switch ZSTD_getErrorCode(code) {
        case ZSTD_error_frameParameter_windowTooLarge, ZSTD_error_dictionary_wrong, ZSTD_error_dictionary_corrupted,
            ZSTD_error_frameParameter_unsupported:
            .unsupported
        case ZSTD_error_memory_allocation: .resources
        default: .damaged
        }
    }

    package func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws {
        // feed drained every output; a hint of 0 means the last frame ended exactly here.
        if lastHint != 0 {
            throw CodecError("\(source): zstd stream is truncated (frame not finished)")
        }
    }
}

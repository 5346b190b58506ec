import CZlib

/// A ZIP archive read as a stream, front to back, from its local file headers (as Firehose's ZIP option and
/// `zip`, Python's `zipfile` or Java's `ZipOutputStream` write it): each entry's bytes are inflated (method
/// 8, deflate) or passed through (method 0, stored) and checked against the entry's CRC-32 and sizes; the
/// central directory at the end is not needed and is skipped. Directory entries and empty entries give no
/// bytes. ZIP64 sizes are understood. Encrypted entries, other methods (bzip2, LZMA, zstd, deflate64) and a
/// stored entry whose size is only known after its data (it cannot be found in a stream) are errors naming
/// the entry.
///
/// As a ``StreamingDecompressor`` the entries' bytes follow one another; ``feed(_:entry:emit:)`` also says
/// where each entry begins and ends, so a reader can treat each entry as a file of its own.
///
/// ```swift
/// let zip = ZipStream(source: "s3://raw/events/2026/11/24/10/batch.zip")
/// try zip.feed(chunk[...], entry: { event in print(event) }, emit: { bytes in parse(bytes) })
/// try zip.finish(entry: { _ in }, emit: { bytes in parse(bytes) })
/// ```
package final class ZipStream: StreamingDecompressor {
    /// Where entries begin and end in the stream of bytes handed out.
    package enum EntryEvent: Equatable, Sendable {
        /// The bytes that follow are the entry named so (its path in the archive).
        case begin(name: String)
        /// The entry's bytes are complete and checked.
        case end(name: String)
    }

    static let localHeader: UInt32 = 0x0403_4b50
    static let centralHeader: UInt32 = 0x0201_4b50
    static let endOfCentralDirectory: UInt32 = 0x0605_4b50
    static let zip64EndOfCentralDirectory: UInt32 = 0x0606_4b50
    static let dataDescriptor: UInt32 = 0x0807_4b50

    private struct Entry {
        var name: String
        var method: UInt16
        var hasDescriptor: Bool
        var zip64: Bool
        var crc: UInt32
        var compressedSize: UInt64
        var size: UInt64
        var start: Int64
        var produced: UInt64 = 0
        var consumed: UInt64 = 0
        var runningCRC: uLong = 0
    }

    private enum State {
        case header
        case stored(Entry)
        case deflated(Entry)
        case descriptor(Entry)
        /// The central directory and what follows it: nothing more to read.
        case trailer
    }

    private let source: String
    private var state = State.header
    /// Bytes of a header or descriptor not complete yet.
    private var pending: [UInt8] = []
    /// The compressed offset of the first byte of `pending` (or of the next byte fed).
    private var offset: Int64 = 0
    private var entries = 0
    private var inflater: z_stream?
    private var output = [UInt8](repeating: 0, count: 256 * 1024)

    package init(source: String) { self.source = source }

    deinit { if inflater != nil { inflateEnd(&inflater!) } }

    /// Whether an entry is an archiver's metadata rather than data: macOS's `__MACOSX/` folder and its `._name`
    /// resource forks, and folders (names ending in `/`).
    package static func isMetadataEntry(_ name: String) -> Bool {
        name.hasPrefix("__MACOSX/") || name.hasSuffix("/") || name.split(separator: "/").last?.hasPrefix("._") == true
    }

    /// Whether `prefix` starts like a ZIP archive: a local file header, or the end record of an empty archive.
    package static func looksLikeZip(_ prefix: [UInt8]) -> Bool {
        prefix.starts(with: [0x50, 0x4b, 0x03, 0x04]) || prefix.starts(with: [0x50, 0x4b, 0x05, 0x06])
    }

    package func feed(_ bytes: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        try feed(bytes, entry: { _ in }, emit: emit)
    }

    package func finish(emit: (ArraySlice<UInt8>) throws -> Void) throws { try finish(entry: { _ in }, emit: emit) }

    /// Feeds the next bytes of the archive; `entry` hears where entries begin and end, `emit` gets their bytes.
    package func feed(_ bytes: ArraySlice<UInt8>, entry: (EntryEvent) throws -> Void, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        var rest = bytes
        while !rest.isEmpty {
            switch state {
            case .trailer:
                offset += Int64(rest.count)
                return
            case .header:
                try readHeader(entry: entry, rest: &rest)
            case .stored(var current):
                let take = Int(min(UInt64(rest.count), current.size - current.produced))
                let piece = rest.prefix(take)
                current.produced += UInt64(take)
                current.consumed += UInt64(take)
                current.runningCRC = Self.crc(current.runningCRC, piece)
                offset += Int64(take)
                rest = rest.dropFirst(take)
                if !piece.isEmpty { try emit(piece) }
                state = .stored(current)
                if current.produced == current.size { try endData(current, entry: entry) }
            case .deflated(var current):
                let (consumed, ended) = try inflate(&current, rest, emit: emit)
                rest = rest.dropFirst(consumed)
                offset += Int64(consumed)
                state = .deflated(current)
                if ended { try endData(current, entry: entry) }
            case .descriptor:
                try readDescriptor(entry: entry, rest: &rest)
            }
        }
    }

    /// Declares the end of the archive; throws when it ends inside an entry or a header.
    package func finish(entry: (EntryEvent) throws -> Void, emit: (ArraySlice<UInt8>) throws -> Void) throws {
        switch state {
        case .trailer:
            return
        case .header where pending.isEmpty:
            if entries == 0 && offset == 0 { return }
            throw CodecError("\(source): the ZIP archive ends after \(entries) entries without its central directory (truncated at byte \(offset))")
        case .header, .descriptor:
            throw CodecError("\(source): the ZIP archive is truncated inside a header at byte \(offset)")
        case .stored(let current), .deflated(let current):
            throw CodecError("\(source): the ZIP archive is truncated inside entry '\(current.name)' (from byte \(current.start))")
        }
    }

    /// Moves bytes from `rest` into `pending` until it holds `count`; whether it does. Only a header's or a
    /// descriptor's own bytes are ever copied, however many entries a chunk holds.
    private func gather(_ count: Int, from rest: inout ArraySlice<UInt8>) -> Bool {
        let take = min(max(0, count - pending.count), rest.count)
        pending += rest.prefix(take)
        rest = rest.dropFirst(take)
        return pending.count >= count
    }

    /// Reads a local header from `pending` and `rest`; moves to the entry's data once it is complete.
    private func readHeader(entry: (EntryEvent) throws -> Void, rest: inout ArraySlice<UInt8>) throws {
        guard gather(4, from: &rest) else { return }
        let signature = Self.u32(pending, 0)
        switch signature {
        case Self.centralHeader, Self.endOfCentralDirectory, Self.zip64EndOfCentralDirectory:
            offset += Int64(pending.count + rest.count)
            pending = []
            rest = []
            state = .trailer
            return
        case Self.localHeader:
            break
        default:
            throw CodecError(
                "\(source): expected a ZIP local file header at byte \(offset), found \(String(signature, radix: 16)) (not a ZIP archive, or damaged)")
        }
        guard gather(30, from: &rest) else { return }
        let flags = Self.u16(pending, 6)
        let method = Self.u16(pending, 8)
        let nameLength = Int(Self.u16(pending, 26))
        let extraLength = Int(Self.u16(pending, 28))
        let headerLength = 30 + nameLength + extraLength
        guard gather(headerLength, from: &rest) else { return }
        let name = String(decoding: pending[30..<(30 + nameLength)], as: UTF8.self)
        var current = Entry(
            name: name, method: method, hasDescriptor: flags & 0x08 != 0, zip64: false, crc: Self.u32(pending, 14),
            compressedSize: UInt64(Self.u32(pending, 18)), size: UInt64(Self.u32(pending, 22)), start: offset)
        // ZIP64: the sizes are in the extra field (id 1) when the header's are all ones.
        var e = 30 + nameLength
        while e + 4 <= headerLength {
            let id = Self.u16(pending, e)
            let length = Int(Self.u16(pending, e + 2))
            guard e + 4 + length <= headerLength else { break }
            if id == 0x0001 {
                current.zip64 = true
                var at = e + 4
                if current.size == 0xFFFF_FFFF, at + 8 <= e + 4 + length { current.size = Self.u64(pending, at); at += 8 }
                if current.compressedSize == 0xFFFF_FFFF, at + 8 <= e + 4 + length { current.compressedSize = Self.u64(pending, at) }
            }
            e += 4 + length
        }
        if flags & 0x01 != 0 { throw CodecError("\(source): ZIP entry '\(name)' is encrypted; encrypted archives are not read", kind: .unsupported) }
        offset += Int64(headerLength)
        pending = []
        entries += 1
        switch method {
        case 0:
            if current.hasDescriptor {
                throw CodecError(
                    "\(source): ZIP entry '\(name)' is stored with its size after its data, which cannot be read as a stream; write it deflated",
                    kind: .unsupported)
            }
            state = .stored(current)
        case 8:
            try startInflater()
            state = .deflated(current)
        default:
            throw CodecError("\(source): ZIP entry '\(name)' uses compression method \(method); only stored (0) and deflate (8) are read", kind: .unsupported)
        }
        try entry(.begin(name: name))
        if case .stored = state, current.size == 0 { try endData(current, entry: entry) }
    }

    /// The entry's data ended: check it (unless a data descriptor follows, which carries the values).
    private func endData(_ current: Entry, entry: (EntryEvent) throws -> Void) throws {
        if current.hasDescriptor {
            state = .descriptor(current)
            return
        }
        try check(current, crc: current.crc, compressedSize: current.compressedSize, size: current.size)
        state = .header
        try entry(.end(name: current.name))
    }

    private func readDescriptor(entry: (EntryEvent) throws -> Void, rest: inout ArraySlice<UInt8>) throws {
        guard case .descriptor(let current) = state, gather(4, from: &rest) else { return }
        let signed = Self.u32(pending, 0) == Self.dataDescriptor
        let start = signed ? 4 : 0
        // 8-byte sizes after a ZIP64 header, and after 4 GiB even without one (Java's ZipOutputStream).
        let wide = current.zip64 || current.produced >= 0xFFFF_FFFF || current.consumed >= 0xFFFF_FFFF
        let length = start + (wide ? 20 : 12)
        guard gather(length, from: &rest) else { return }
        let crc = Self.u32(pending, start)
        let compressed = wide ? Self.u64(pending, start + 4) : UInt64(Self.u32(pending, start + 4))
        let size = wide ? Self.u64(pending, start + 12) : UInt64(Self.u32(pending, start + 8))
        try check(current, crc: crc, compressedSize: compressed, size: size)
        offset += Int64(length)
        pending = []
        state = .header
        try entry(.end(name: current.name))
    }

    private func check(_ current: Entry, crc: UInt32, compressedSize: UInt64, size: UInt64) throws {
        guard UInt32(truncatingIfNeeded: current.runningCRC) == crc else {
            throw CodecError("\(source): ZIP entry '\(current.name)' (from byte \(current.start)) fails its CRC-32 check: the archive is damaged")
        }
        guard current.produced == size, current.consumed == compressedSize else {
            throw CodecError(
                "\(source): ZIP entry '\(current.name)' (from byte \(current.start)) holds \(current.produced) bytes from \(current.consumed), its header says \(size) from \(compressedSize)")
        }
    }

    private func startInflater() throws {
        if inflater == nil {
            inflater = z_stream()
            // Negative window bits: raw deflate, as ZIP entries hold it (no zlib or gzip framing).
            let rc = czlib_inflate_init2(&inflater!, -15)
            guard rc == Z_OK else { throw CodecError("\(source): zlib inflateInit2 failed (\(rc))", kind: .resources) }
        } else {
            inflateReset(&inflater!)
        }
    }

    /// Inflates from `input` until it is used or the entry's deflate stream ends; returns the bytes used.
    private func inflate(_ current: inout Entry, _ input: ArraySlice<UInt8>, emit: (ArraySlice<UInt8>) throws -> Void) throws -> (Int, Bool) {
        var used = 0
        while used < input.count {
            let (consumed, produced, rc): (Int, Int, Int32) = input.withUnsafeBufferPointer { inBuf in
                output.withUnsafeMutableBufferPointer { outBuf in
                    inflater!.next_in = UnsafeMutablePointer(mutating: inBuf.baseAddress! + used)
                    inflater!.avail_in = uInt(inBuf.count - used)
                    inflater!.next_out = outBuf.baseAddress
                    inflater!.avail_out = uInt(outBuf.count)
                    let rc = CZlib.inflate(&inflater!, Z_NO_FLUSH)
                    return (inBuf.count - used - Int(inflater!.avail_in), outBuf.count - Int(inflater!.avail_out), rc)
                }
            }
            used += consumed
            current.consumed += UInt64(consumed)
            if produced > 0 {
                current.produced += UInt64(produced)
                current.runningCRC = Self.crc(current.runningCRC, output[0..<produced])
                try emit(output[0..<produced])
            }
            switch rc {
            case Z_STREAM_END:
                return (used, true)
            case Z_OK where consumed > 0 || produced > 0, Z_BUF_ERROR where consumed > 0 || produced > 0:
                continue
            default:
                let detail = inflater!.msg.map { String(cString: $0) } ?? "zlib error \(rc)"
                throw CodecError("\(source): ZIP entry '\(current.name)' (from byte \(current.start)) is corrupt near byte \(offset + Int64(used)): \(detail)")
            }
        }
        return (used, false)
    }

    private static func crc(_ running: uLong, _ bytes: ArraySlice<UInt8>) -> uLong {
        bytes.withUnsafeBufferPointer { CZlib.crc32(running, $0.baseAddress, uInt($0.count)) }
    }

    private static func u16(_ b: [UInt8], _ at: Int) -> UInt16 { UInt16(b[at]) | UInt16(b[at + 1]) << 8 }
    private static func u32(_ b: [UInt8], _ at: Int) -> UInt32 { UInt32(u16(b, at)) | UInt32(u16(b, at + 2)) << 16 }
    private static func u64(_ b: [UInt8], _ at: Int) -> UInt64 { UInt64(u32(b, at)) | UInt64(u32(b, at + 4)) << 32 }
}

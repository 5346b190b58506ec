import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// ``FileIO`` over the local file system: plain absolute paths and `file://` URIs.
///
/// Writes go to a temporary file renamed into place (readers never see half a file);
/// ``writeIfAbsent(_:bytes:)`` uses `link(2)`, which fails when the target exists, so exactly one of
/// several racing writers wins. Every call runs on ``BlockingExecutor``'s threads.
///
/// ```swift
/// let io = LocalFileIO()
/// try await io.write("/tmp/wh/t/data/a.parquet", bytes: parquetBytes)
/// try await io.exists("file:///tmp/wh/t/data/a.parquet")   // true
/// ```
public struct LocalFileIO: FileIO {
    public init() {}

    /// The file system path of a location (`file:///a/b`, `file:/a/b` or `/a/b`).
    public static func path(_ location: String) -> String {
        if location.hasPrefix("file://") { return String(location.dropFirst(7)) }
        if location.hasPrefix("file:") { return String(location.dropFirst(5)) }
        return location
    }

    public func read(_ location: String) async throws -> [UInt8] {
        try await BlockingExecutor.run { try Self.readFile(Self.path(location), location: location, range: nil) }
    }

    public func read(_ location: String, range: Range<Int64>) async throws -> [UInt8] {
        try await BlockingExecutor.run { try Self.readFile(Self.path(location), location: location, range: range) }
    }

    public func size(_ location: String) async throws -> Int64 {
        try await BlockingExecutor.run {
            var info = stat()
            guard stat(Self.path(location), &info) == 0 else { throw Self.error(location, "stat") }
            return Int64(info.st_size)
        }
    }

    public func write(_ location: String, bytes: [UInt8]) async throws {
        try await BlockingExecutor.run {
            let path = Self.path(location)
            let temporary = try Self.writeTemporary(path: path, bytes: bytes, location: location)
            guard rename(temporary, path) == 0 else {
                let failure = Self.error(location, "rename")
                unlink(temporary)
                throw failure
            }
        }
    }

    /// Copies the file beside the destination, then renames it into place (never in memory).
    public func write(_ location: String, contentsOfFile source: String) async throws {
        try await BlockingExecutor.run {
            let path = Self.path(location)
            let directory = (path as NSString).deletingLastPathComponent
            let temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(UUID().uuidString.prefix(8)).tmp"
            do {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
                try FileManager.default.copyItem(atPath: source, toPath: temporary)
            } catch {
                unlink(temporary)
                throw IcebergError(.io, "\(location): cannot copy \(source) there", cause: error)
            }
            guard rename(temporary, path) == 0 else {
                let failure = Self.error(location, "rename")
                unlink(temporary)
                throw failure
            }
        }
    }

    public func writeIfAbsent(_ location: String, bytes: [UInt8]) async throws {
        try await BlockingExecutor.run {
            let path = Self.path(location)
            let temporary = try Self.writeTemporary(path: path, bytes: bytes, location: location)
            defer { unlink(temporary) }
            guard link(temporary, path) == 0 else {
                if errno == EEXIST { throw IcebergError(.alreadyExists, "\(location) already exists") }
                throw Self.error(location, "link")
            }
        }
    }

    public func delete(_ location: String) async throws {
        try await BlockingExecutor.run {
            guard unlink(Self.path(location)) == 0 || errno == ENOENT else { throw Self.error(location, "unlink") }
        }
    }

    public func exists(_ location: String) async throws -> Bool {
        try await BlockingExecutor.run { access(Self.path(location), F_OK) == 0 }
    }

    public func list(prefix: String) async throws -> [FileInfo] {
        try await BlockingExecutor.run {
            let path = Self.path(prefix)
            let keepScheme = prefix.hasPrefix("file:") ? String(prefix.dropLast(path.count)) : ""
            // Walk from the deepest existing directory that the prefix names.
            var root = path.hasSuffix("/") ? path : (path as NSString).deletingLastPathComponent
            if root.isEmpty { root = "/" }
            var result: [FileInfo] = []
            guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
            while let relative = walker.nextObject() as? String {
                let full = root.hasSuffix("/") ? root + relative : root + "/" + relative
                var info = stat()
                guard stat(full, &info) == 0 else { continue }
                if (info.st_mode & S_IFMT) == S_IFDIR {
                    // A folder that can neither hold the prefix nor lie below it is not walked (a checkpoint's
                    // archive and lineage folders, when only its version files are asked for).
                    let folder = full + "/"
                    if !folder.hasPrefix(path) && !path.hasPrefix(folder) { walker.skipDescendants() }
                    continue
                }
                guard full.hasPrefix(path), (info.st_mode & S_IFMT) == S_IFREG else { continue }
                #if os(Linux)
                let modified = info.st_mtim
                #else
                let modified = info.st_mtimespec
                #endif
                result.append(
                    FileInfo(location: keepScheme + full, size: Int64(info.st_size),
                             lastModifiedMillis: Int64(modified.tv_sec) * 1000 + Int64(modified.tv_nsec) / 1_000_000))
            }
            return result.sorted { $0.location < $1.location }
        }
    }

    // MARK: Helpers

    static func error(_ location: String, _ call: String) -> IcebergError {
        let code = errno
        let text = String(cString: strerror(code))
        return IcebergError(code == ENOENT ? .notFound : .io, "\(location): \(call) failed: \(text)", isRetryable: code == EINTR || code == EAGAIN)
    }

    static func readFile(_ path: String, location: String, range: Range<Int64>?) throws -> [UInt8] {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw error(location, "open") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw error(location, "fstat") }
        let size = Int64(info.st_size)
        let start = min(range?.lowerBound ?? 0, size), end = min(range?.upperBound ?? size, size)
        var bytes = [UInt8](repeating: 0, count: Int(max(0, end - start)))
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, $0.count - done, off_t(start) + off_t(done)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw n == 0 ? IcebergError(.io, "\(location): file shrank while reading") : error(location, "read") }
            done += n
        }
        return bytes
    }

    /// Writes `bytes` to a new temporary file beside `path` (creating parent folders) and returns its path.
    static func writeTemporary(path: String, bytes: [UInt8], location: String) throws -> String {
        let directory = (path as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw IcebergError(.io, "\(location): cannot create folder \(directory)", cause: error)
        }
        let temporary = "\(directory)/.\((path as NSString).lastPathComponent).\(UUID().uuidString.prefix(8)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw error(location, "open") }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { posixWrite(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let failure = error(location, "write")
                unlink(temporary)
                throw failure
            }
            done += n
        }
        return temporary
    }
}

/// `write(2)`, which `FileIO.write` shadows inside the type.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    #if canImport(Glibc)
    Glibc.write(fd, buffer, count)
    #else
    Darwin.write(fd, buffer, count)
    #endif
}

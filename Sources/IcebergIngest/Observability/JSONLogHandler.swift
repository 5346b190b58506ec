import Foundation
import IcebergCore
import Logging

/// A `swift-log` handler that writes one JSON object per line: `time` (UTC, milliseconds), `level`,
/// `message`, `logger` (the label), then the metadata as fields (`table`, `source`, `shard`, `object`,
/// `snapshot`, `rows` ...; a metadata key named like one of the four is written as `meta_<key>`). Each line is
/// one `write(2)`, so lines from several tasks never interleave, and nothing is buffered: a log collector
/// reading the pipe sees each line as it is logged.
///
/// ```swift
/// LoggingSystem.bootstrap { label in JSONLogHandler(label: label) }
/// var logger = Logger(label: "iceberg-ingest")
/// logger.info("committed snapshot", metadata: ["snapshot": "42", "rows": "1000"])
/// // {"time":"2026-11-30T01:02:03.456Z","level":"info","message":"committed snapshot","logger":"iceberg-ingest","rows":"1000","snapshot":"42"}
/// ```
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public var metadataProvider: Logger.MetadataProvider?
    public let label: String
    private let fileDescriptor: Int32

    /// - Parameter fileDescriptor: where lines go (standard error by default).
    public init(label: String, fileDescriptor: Int32 = STDERR_FILENO) {
        self.label = label
        self.fileDescriptor = fileDescriptor
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let extra = event.metadata { fields.merge(extra) { _, new in new } }
        let line = Self.line(
            time: Date(), level: event.level, message: "\(event.message)", label: label, metadata: fields)
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(fileDescriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }

    /// The JSON line for one event, without its newline (keys: the four fixed ones first, then the metadata sorted).
    public static func line(time: Date, level: Logger.Level, message: String, label: String, metadata: Logger.Metadata) -> String {
        var object: [(String, JSONValue)] = [
            ("time", .string(Self.timestamp(time))), ("level", .string(level.rawValue)), ("message", .string(message)), ("logger", .string(label)),
        ]
        let fixed: Set = ["time", "level", "message", "logger"]
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) {
            object.append((fixed.contains(key) ? "meta_" + key : key, Self.json(value)))
        }
        return JSONValue.object(object).serialized()
    }

    private static func json(_ value: Logger.MetadataValue) -> JSONValue {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let values): .array(values.map(json))
        case .dictionary(let values): .object(values.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) })
        }
    }

    /// `2026-11-30T01:02:03.456Z`.
    static func timestamp(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        var seconds = time_t(millis / 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday), Int(parts.tm_hour),
            Int(parts.tm_min), Int(parts.tm_sec), Int(millis % 1000))
    }
}

/// The one error type of the ingestion pipeline: what failed, on which object, and whether to try again.
///
/// The message names the source object (bucket/key or path) and, for parse errors, the line, byte offset and
/// field; `cause` keeps the underlying error.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// Compressed input that cannot be decompressed (bad magic, bad checksum, truncated stream).
        public static let corruptCompressedInput = Code(rawValue: "corrupt-compressed-input")
        /// A record that does not parse or does not fit the schema.
        public static let badRecord = Code(rawValue: "bad-record")
        /// The input has a field the table's schema lacks, under the drift policy `fail`.
        public static let schemaDrift = Code(rawValue: "schema-drift")
        /// An input object changed or shrank while it was being read.
        public static let inputChanged = Code(rawValue: "input-changed")
        /// A configuration that cannot work.
        public static let invalidConfiguration = Code(rawValue: "invalid-configuration")
        /// A reprocessing cannot replace an object's rows exactly: a data file its lineage names is no
        /// longer in the table (rewritten or removed by another tool).
        public static let lineageBroken = Code(rawValue: "lineage-broken")
        /// The table's history no longer holds this shard's checkpoint record, while its checkpoint files say
        /// it has committed: the snapshot that carried it was expired (by an engine that does not keep it).
        /// Starting over would ingest every object again, so the run stops.
        public static let checkpointRecordLost = Code(rawValue: "checkpoint-record-lost")
        /// Part of a routed run failed: some streams' runs ended in errors (each named in the summary).
        public static let ingestFailed = Code(rawValue: "ingest-failed")
    }

    public var code: Code
    /// Human-readable; names the object, line, byte offset and field involved.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// Whether the same operation may succeed if tried again.
    public var isRetryable: Bool

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, isRetryable: Bool = false) {
        self.code = code
        self.message = message
        self.cause = cause
        self.isRetryable = isRetryable
    }

    public var description: String {
        cause.map { "\(code): \(message) (caused by: \($0))" } ?? "\(code): \(message)"
    }
}

extension IngestError {
    /// The message for a setting's `value` outside `range`, with the bounds as a person writes them (`86400`,
    /// not `86400.0`): `'ingest.lease_seconds' is inf: it must be from 1 to 86400`.
    package static func outOfRange(_ setting: String, _ value: Double, _ range: ClosedRange<Double>, unit: String? = nil) -> String {
        func text(_ number: Double) -> String {
            number.isFinite && number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : "\(number)"
        }
        return outOfRange(setting, "\(value)", from: text(range.lowerBound), to: text(range.upperBound), unit: unit)
    }

    /// ``outOfRange(_:_:_:unit:)`` for a whole-number setting: `'source.late_arrival_hours' is -1: it must be from 0 to 8760`.
    package static func outOfRange<Number: BinaryInteger>(_ setting: String, _ value: Number, _ range: ClosedRange<Number>, unit: String? = nil) -> String {
        outOfRange(setting, "\(value)", from: "\(range.lowerBound)", to: "\(range.upperBound)", unit: unit)
    }

    /// The one wording of an out-of-range message, over the texts of the value and the bounds.
    private static func outOfRange(_ setting: String, _ value: String, from lower: String, to upper: String, unit: String?) -> String {
        "\(setting) is \(value): it must be from \(lower) to \(upper)" + (unit.map { " \($0)" } ?? "")
    }
}

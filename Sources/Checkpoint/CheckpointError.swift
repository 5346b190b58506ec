/// The one error type of the Checkpoint module.
public struct CheckpointError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A checkpoint file that does not decode (bad magic, version, checksum or lengths).
        public static let corrupt = Code(rawValue: "corrupt")
        /// The checkpoint the table's snapshot names is missing.
        public static let missing = Code(rawValue: "missing")
        /// Another writer wrote the same checkpoint version first.
        public static let versionTaken = Code(rawValue: "version-taken")
        /// Another runner holds the lease of this source shard (see ``LeaseStore``).
        public static let leaseHeld = Code(rawValue: "lease-held")
        /// This runner's lease was taken over (it was paused past its expiry): it must stop without committing.
        public static let leaseLost = Code(rawValue: "lease-lost")
        /// Reading or writing the checkpoint failed.
        public static let io = Code(rawValue: "io")
    }

    public var code: Code
    /// Names the checkpoint file, source and object involved.
    public var message: String
    public var cause: (any Error & Sendable)?
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

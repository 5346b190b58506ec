import Foundation

/// The wall clock in milliseconds since the Unix epoch, injectable for tests and golden files.
public typealias MillisecondClock = @Sendable () -> Int64

/// The system's wall clock.
public enum WallClock {
    /// Now, in milliseconds since the Unix epoch.
    @Sendable public static func nowMillis() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }
}

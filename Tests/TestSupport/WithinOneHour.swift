import Foundation
import Testing

/// A trait for tests that run on the wall clock (the executable's, or the library's default `now`) and whose
/// expectations depend on the hour it is in from their start to their end: input placed at "the hour of now,
/// minus N", then a fixed number of commits (at most one idle commit an hour), a lag or watermark in hours,
/// the hours that are closed, the objects a window holds. When the hour turns during such a test, the
/// ingestor rightly moves its watermark, commits once more or lists another hour, and the test fails for
/// the clock, not for the code.
///
/// Each test under the trait starts only with at least `seconds` left in the hour (more than the test takes
/// on a loaded machine); otherwise it waits until just after the hour turns, and says so. Tests running side
/// by side wait for the same turn, so a suite loses that wait at most once an hour.
///
/// ```swift
/// @Suite(.withinOneHour) struct UnsettledCommitTests { ... }
/// @Test(.withinOneHour(seconds: 240)) func aLongerTest() async throws { ... }
/// ```
public struct WithinOneHour: TestTrait, SuiteTrait, TestScoping {
    /// The least time left in the hour for a test to start.
    public let seconds: Double

    public var isRecursive: Bool { true }

    /// How long a test that needs `seconds` waits when the clock reads `now` (seconds since the epoch):
    /// nothing while enough of the hour is left, else until a second after the hour turns.
    public static func wait(now: Double, seconds: Double) -> Double {
        let left = 3600 - now.truncatingRemainder(dividingBy: 3600)
        return left >= seconds ? 0 : left + 1
    }

    public func provideScope(for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void) async throws {
        // A suite's scope holds its tests: each of them waits for itself, just before it starts.
        if !test.isSuite {
            let waited = try await TestEnvironment.awayFromHourTurn(seconds)
            if waited > 0 {
                print("\(test.name): fewer than \(Int(seconds)) s were left in the hour; waited \(Int(waited)) s for the next one")
            }
        }
        try await function()
    }
}

extension Trait where Self == WithinOneHour {
    /// Starts each test only with at least three minutes left in the hour (see ``WithinOneHour``): the
    /// longest of these tests (or of a parameterized test's cases) take about 90 s alone, more under the suite.
    public static var withinOneHour: WithinOneHour { WithinOneHour(seconds: 180) }

    /// Starts each test only with at least `seconds` left in the hour (see ``WithinOneHour``).
    public static func withinOneHour(seconds: Double) -> WithinOneHour { WithinOneHour(seconds: seconds) }
}

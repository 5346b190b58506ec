import CoreMetrics
import Foundation
import IcebergIngest
import Prometheus

/// Where `run` puts its metrics (``IngestMetrics``) in Prometheus' text format: an HTTP endpoint
/// (`--metrics-port`, `GET /metrics`, for a Deployment with `--follow` that Prometheus scrapes) and a file
/// rewritten atomically after every pass and at exit (`--metrics-file`, for node_exporter's textfile
/// collector or a CronJob's sidecar).
final class MetricsExport: Sendable {
    let registry = PrometheusCollectorRegistry()
    let file: String?
    private let server: MetricsServer?

    /// Bootstraps `swift-metrics` with Prometheus (once per process) and starts the endpoint, if asked.
    init(port: Int?, file: String?) throws {
        self.file = file
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        if let port {
            let registry = self.registry
            server = try MetricsServer(port: port) { registry.emitToBuffer() }
        } else {
            server = nil
        }
    }

    /// The port the endpoint listens on (the one asked, or the one the system chose for port 0).
    var port: Int? { server?.port }

    /// Writes the text file: a temporary file beside it, then a rename, so a reader never sees half of it.
    func writeFile() throws {
        guard let file else { return }
        let temporary = file + ".tmp-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            try Data(registry.emitToBuffer()).write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, file) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw IngestError(.invalidConfiguration, "--metrics-file \(file): cannot write it (\(error.localizedDescription))")
        }
    }
}

/// A minimal HTTP/1.1 server for one page: `GET /metrics` answers the body it is given, anything else 404.
/// It runs on a thread of its own (blocking `accept` and `recv`, never on Swift's cooperative pool), serves
/// one connection at a time with a 5 s read timeout, and closes each connection after its answer.
final class MetricsServer: Sendable {
    let port: Int
    private let socket: Int32

    init(port: Int, body: @escaping @Sendable () -> [UInt8]) throws {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Self.error("socket", port: port) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let error = Self.error("bind", port: port)
            close(fd)
            throw error
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: actual.sin_port))
        socket = fd
        let thread = Thread { Self.serve(fd, body: body) }
        thread.name = "metrics-server"
        thread.start()
    }

    private static func error(_ call: String, port: Int) -> IngestError {
        IngestError(.invalidConfiguration, "--metrics-port \(port): \(call) failed: \(String(cString: strerror(errno)))")
    }

    private static func serve(_ listener: Int32, body: @Sendable () -> [UInt8]) {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return
            }
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(connection, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            answer(connection, body: body)
            close(connection)
        }
    }

    /// Reads the request head (at most 8 KiB) and answers it.
    private static func answer(_ connection: Int32, body: () -> [UInt8]) {
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 2048)
        while request.count < 8192, !request.ends(with: [13, 10, 13, 10]) {
            let n = recv(connection, &chunk, chunk.count, 0)
            if n <= 0 { return }
            request += chunk[0..<n]
        }
        let requestLine = String(decoding: request.prefix { $0 != 13 }, as: UTF8.self).split(separator: " ")
        let (status, type, content): (String, String, [UInt8])
        if requestLine.count >= 2, requestLine[0] == "GET", requestLine[1] == "/metrics" || requestLine[1].hasPrefix("/metrics?") {
            (status, type, content) = ("200 OK", "text/plain; version=0.0.4; charset=utf-8", body())
        } else {
            (status, type, content) = ("404 Not Found", "text/plain; charset=utf-8", Array("only GET /metrics is served here\n".utf8))
        }
        let head = "HTTP/1.1 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(content.count)\r\nConnection: close\r\n\r\n"
        var bytes = Array(head.utf8) + content
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { send(connection, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            offset += n
        }
    }

    deinit { close(socket) }
}

extension Array where Element == UInt8 {
    fileprivate func ends(with suffix: [UInt8]) -> Bool { count >= suffix.count && Array(self[(count - suffix.count)...]) == suffix }
}

import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Change notifications for folder trees: inotify on Linux (one watch per folder, added as
/// folders appear), nothing elsewhere (``IndexWatcher`` then rescans on a timer).
final class FileNotifications {
    /// Why notifications are not available.
    struct Unavailable: Error, CustomStringConvertible {
        var description: String
    }

    #if os(Linux)
    private let descriptor: Int32
    /// Watched folders by watch descriptor.
    private var folders: [Int32: String] = [:]
    private var watched = Set<String>()

    /// - Throws: ``Unavailable`` when the kernel gives no inotify instance.
    init() throws(Unavailable) {
        descriptor = inotify_init1(Int32(IN_NONBLOCK) | Int32(IN_CLOEXEC))
        guard descriptor >= 0 else { throw Unavailable(description: "inotify: \(String(cString: strerror(errno)))") }
    }

    deinit {
        close(descriptor)
    }

    /// Watches `root` and every folder below it that is not hidden (already watched ones are kept).
    /// - Throws: ``Unavailable`` when the kernel's limit of watches is reached.
    func watchTree(_ root: String) throws(Unavailable) {
        var stack = [root]
        var seen = Set<[UInt64]>()  // device and inode: a link back up the tree is walked once
        while let folder = stack.popLast() {
            var info = stat()
            guard stat(folder, &info) == 0, seen.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted else { continue }
            guard !watched.contains(folder) else {
                stack += Self.subfolders(of: folder)
                continue
            }
            let mask = UInt32(IN_CLOSE_WRITE | IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF | IN_ATTRIB)
            let wd = inotify_add_watch(descriptor, folder, mask)
            if wd < 0 {
                let code = errno
                if code == ENOSPC {
                    throw Unavailable(description: "the limit of inotify watches is reached (raise fs.inotify.max_user_watches)")
                }
                continue  // vanished or unreadable meanwhile: the next rescan sees it
            }
            folders[wd] = folder
            watched.insert(folder)
            stack += Self.subfolders(of: folder)
        }
    }

    /// Waits up to `timeout` for changes; returns whether any arrived (and forgets folders that went away).
    func wait(timeout: Duration) -> Bool {
        var descriptor = pollfd(fd: self.descriptor, events: Int16(POLLIN), revents: 0)
        let milliseconds = Int32(max(0, min(timeout / .milliseconds(1), 60_000)))
        guard poll(&descriptor, 1, milliseconds) > 0 else { return false }
        return drain()
    }

    /// Reads every pending event; true when there was at least one.
    private func drain() -> Bool {
        var any = false
        let size = 64 * 1024
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        defer { buffer.deallocate() }
        while true {
            let count = read(descriptor, buffer, size)
            guard count > 0 else { break }
            any = true
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let event = buffer.load(fromByteOffset: offset, as: inotify_event.self)
                if event.mask & UInt32(IN_IGNORED) != 0, let folder = folders.removeValue(forKey: event.wd) {
                    watched.remove(folder)
                }
                offset += MemoryLayout<inotify_event>.size + Int(event.len)
            }
        }
        return any
    }
    #else
    init() throws(Unavailable) {
        throw Unavailable(description: "file notifications are implemented for Linux only")
    }

    func watchTree(_ root: String) throws(Unavailable) {}

    func wait(timeout: Duration) -> Bool { false }
    #endif

    /// The folders directly in `folder`, hidden ones left out (as the walker leaves them out).
    static func subfolders(of folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        let base = folder.hasSuffix("/") ? folder : folder + "/"
        return names.filter { !$0.hasPrefix(".") }.map { base + $0 }.filter { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) && isFolder.boolValue
        }
    }
}

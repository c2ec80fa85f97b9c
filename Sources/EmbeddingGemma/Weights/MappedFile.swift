#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A read-only file mapped into memory. Pages are loaded on first touch, so a large
/// embedding table costs resident memory only for the rows that are read.
///
/// The mapping is immutable after creation and unmapped when the last reference goes away,
/// which makes sharing it across threads safe.
final class MappedFile: @unchecked Sendable {
    /// The path the file was opened from, for error messages.
    let path: String
    /// Number of bytes in the file.
    let count: Int
    /// Start of the mapping; `nil` for an empty file.
    let baseAddress: UnsafeRawPointer?
    /// The open file, for ``read(into:count:at:)``.
    private let descriptor: Int32

    /// Maps the whole file at `path` read-only.
    init(path: String) throws(EmbeddingGemmaError) {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw .modelNotFound(path: path, hint: "The file cannot be opened (errno \(errno)).")
        }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            close(fd)
            throw .corruptModelFile(path: path, reason: "cannot stat the file (errno \(errno))")
        }
        let size = Int(info.st_size)
        count = size
        descriptor = fd
        if size == 0 {
            baseAddress = nil
            return
        }
        guard let mapped = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), mapped != MAP_FAILED else {
            close(fd)
            throw .corruptModelFile(path: path, reason: "cannot memory-map the file (errno \(errno))")
        }
        baseAddress = UnsafeRawPointer(mapped)
    }

    deinit {
        if let baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: baseAddress), count)
        }
        close(descriptor)
    }

    /// Copies `count` bytes at file offset `offset` into `buffer` with `pread`, without touching the
    /// mapping: a large table read this way (the token embeddings of a GGUF file) adds nothing to
    /// the process's resident memory, where page faults would map 64 KB around every row read.
    /// - Returns: false if the bytes could not be read (the caller has checked the range).
    func read(into buffer: UnsafeMutableRawPointer, count: Int, at offset: Int) -> Bool {
        var done = 0
        while done < count {
            let n = pread(descriptor, buffer + done, count - done, off_t(offset + done))
            if n <= 0 {
                if n < 0, errno == EINTR { continue }
                return false
            }
            done += n
        }
        return true
    }

    /// Tells the kernel the bytes in `range` are not needed any more; they are dropped from the
    /// process's resident memory and read again from the file if touched.
    func release(_ range: Range<Int>) {
        guard let baseAddress, !range.isEmpty else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page
        let end = range.upperBound / page * page
        guard end > start else { return }
        madvise(UnsafeMutableRawPointer(mutating: baseAddress + start), end - start, Int32(MADV_DONTNEED))
    }

    /// The mapped bytes as a buffer (empty for an empty file).
    var bytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: baseAddress, count: count)
    }
}

package org.etcdjvm.embedded.internal.raft.atomix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Disk space for the Raft log, allocated for real before Atomix writes into it. Atomix 3.1.12
 * creates each log segment sparse ({@code RandomAccessFile.setLength}) and writes it through a
 * memory mapping: on a full disk the first touch of a page with no block behind it kills the JVM
 * with SIGBUS instead of failing a write. Here every page of a segment gets its block ahead of
 * time, by writing zeros (Java has no {@code fallocate}; on ext4 and tmpfs the space is reserved at
 * the write), so that a full disk shows as a failed write ({@code ENOSPC}) here, never in Atomix's
 * mapping:
 *
 * <ul>
 *   <li>the unwritten rest of the newest segment, at start, before Atomix appends to it;
 *   <li>the next segment, ahead of need: a zero-filled file written under a temporary name and
 *       linked into place only if Atomix has not created that segment yet. Atomix's
 *       {@code createSegment} opens an existing file, keeps its size and writes its header.
 *       {@link LogVerifier} deletes such a spare at the next start (Atomix would misread it).
 * </ul>
 *
 * <p>Thread-safe enough for its single caller at a time.
 */
final class SegmentSpace {
  private static final Logger log = LoggerFactory.getLogger(SegmentSpace.class);
  private static final int CHUNK = 1 << 20;

  private final Path dir;
  private final String prefix;
  private final int segmentBytes;
  private final Pattern segmentName;

  SegmentSpace(Path dir, String prefix, int segmentBytes) {
    this.dir = dir;
    this.prefix = prefix;
    this.segmentBytes = segmentBytes;
    this.segmentName = Pattern.compile(Pattern.quote(prefix) + "-(\\d+)\\.log");
  }

  /**
   * Writes zeros over {@code [from, size)} of {@code segment}. Only while nothing appends to it:
   * before Atomix starts, or before its first append. What lies there is unused (the verifier
   * found the log's end at {@code from}).
   */
  static void back(Path segment, long from) throws IOException {
    try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.WRITE)) {
      writeZeros(channel, from, channel.size());
    }
  }

  /**
   * Allocates the segment after the newest one, unless it exists or the disk has less than twice
   * a segment to spare (then Atomix's own check refuses new segments, and writes are refused
   * before that). Returns whether a spare was created.
   */
  boolean prepareNext(long usableBytes) throws IOException {
    if (usableBytes < 2L * segmentBytes) {
      return false;
    }
    long newest = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = segmentName.matcher(p.getFileName().toString());
        if (m.matches()) {
          newest = Math.max(newest, Long.parseLong(m.group(1)));
        }
      }
    }
    if (newest == 0 || isSpare(dir.resolve(prefix + "-" + newest + ".log"))) {
      return false; // no log yet, or the spare is there and Atomix has not moved into it
    }
    Path next = dir.resolve(prefix + "-" + (newest + 1) + ".log");
    if (Files.exists(next)) {
      return false;
    }
    Path temp = dir.resolve(".spare-" + prefix + "-" + (newest + 1) + ".tmp");
    try {
      try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
          StandardOpenOption.WRITE)) {
        writeZeros(channel, 0, segmentBytes);
      }
      Files.createLink(next, temp); // fails if Atomix created the segment meanwhile: then it stays sparse
      log.debug("allocated the spare segment {}", next);
      return true;
    } catch (FileAlreadyExistsException raced) {
      return false;
    } finally {
      Files.deleteIfExists(temp);
    }
  }

  /** Bytes of the log's segment files, the spare not counted. */
  long usedBytes() {
    long total = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        if (segmentName.matcher(p.getFileName().toString()).matches() && !isSpare(p)) {
          total += Files.size(p);
        }
      }
    } catch (IOException e) {
      return 0; // a segment deleted while listing: measure again next time
    }
    return total;
  }

  /** A segment file whose header is still all zeros: allocated here, not yet taken by Atomix. */
  static boolean isSpare(Path segment) throws IOException {
    ByteBuffer header = ByteBuffer.allocate(64);
    try (FileChannel channel = FileChannel.open(segment, StandardOpenOption.READ)) {
      while (header.hasRemaining() && channel.read(header, header.position()) > 0) {
        // read the header
      }
    }
    for (int i = 0; i < header.position(); i++) {
      if (header.get(i) != 0) {
        return false;
      }
    }
    return true;
  }

  private static void writeZeros(FileChannel channel, long from, long to) throws IOException {
    ByteBuffer zeros = ByteBuffer.allocateDirect(CHUNK);
    for (long p = from; p < to; ) {
      zeros.clear().limit((int) Math.min(CHUNK, to - p));
      while (zeros.hasRemaining()) {
        p += channel.write(zeros, p);
      }
    }
  }
}

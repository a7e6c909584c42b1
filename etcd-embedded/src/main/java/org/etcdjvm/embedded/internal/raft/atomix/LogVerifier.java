package org.etcdjvm.embedded.internal.raft.atomix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads this member's Raft log and snapshot files before Atomix does, because Atomix 3.1.12 reads
 * damage as a shorter log: {@code MappedJournalSegmentWriter.reset} stops at the first entry whose
 * checksum fails, and {@code SegmentedJournal.loadSegments} deletes the segments after a gap. A
 * member that started from such a log would serve a store from before the damage.
 *
 * <p>What is accepted, as etcd's WAL does: an incomplete <b>last entry</b> of the newest segment (a
 * crash in the middle of a write: Atomix writes an entry's body, then its length and checksum), or
 * stale bytes after the end of the log (Atomix's truncation zeroes only the first 8 bytes after the
 * new end), which are dropped and logged with the index; and snapshots Atomix itself discards
 * (unlocked: interrupted while being written). What is refused with {@link DamagedLogException}:
 * an entry whose checksum fails while a valid entry follows it, a segment cut short or with a
 * damaged header, a missing segment (the indexes do not line up), a log that begins after the
 * newest snapshot ends (a snapshot missing or unreadable), or a snapshot header that cannot be read.
 *
 * <p>An interrupted write and damage to the last entries look alike; the {@link CommittedIndex}
 * mark tells them apart: an entry at or below it was committed (and flushed), so an incomplete one
 * is damage, and so is a log that ends before it.
 *
 * <p>Formats, as Atomix 3.1.12 writes them: a segment file {@code <prefix>-<id>.log} starts with a
 * 64-byte descriptor (int version = 1, long id, long first index, int max segment size, int max
 * entries, long updated; big-endian), then entries of {@code int length, int CRC32, length bytes},
 * up to a zero length. A snapshot file {@code <prefix>-<index>.snapshot} starts with a 64-byte
 * descriptor (long index, long timestamp, int version = 1, boolean locked). The content of a
 * snapshot is checked when it is restored ({@link ServiceAdapter}).
 */
final class LogVerifier {
  private static final Logger log = LoggerFactory.getLogger(LogVerifier.class);
  private static final int DESCRIPTOR_BYTES = 64;

  /** The log or a snapshot cannot be trusted; the message names the file, the place and what to do. */
  static final class DamagedLogException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    DamagedLogException(String message) {
      super(message);
    }
  }

  /**
   * What was found.
   *
   * @param firstIndex    first index in the log (1 for a log never compacted); 0 without segments
   * @param lastIndex     last index in the log; {@code firstIndex - 1} when empty
   * @param snapshotIndex index of the newest complete snapshot, 0 without one
   * @param tornIndex     index of a torn last entry that was dropped, 0 if none
   * @param committed     the committed-index mark found ({@link CommittedIndex}), 0 without one
   * @param newestSegment the newest segment file, null without segments
   * @param newestEnd     the offset in it just past its last entry
   */
  record Result(long firstIndex, long lastIndex, long snapshotIndex, long tornIndex, long committed,
      Path newestSegment, long newestEnd) {}

  private LogVerifier() {}

  /**
   * Verifies the log and snapshots of the Raft storage {@code prefix} in {@code dir}.
   *
   * @param advice what to do about damage, appended to every message
   * @throws DamagedLogException when the files cannot be trusted
   * @throws IOException when they cannot be read
   */
  static Result verify(Path dir, String prefix, String advice) throws IOException {
    if (!Files.isDirectory(dir)) {
      return new Result(0, -1, 0, 0, 0, null, 0);
    }
    long committed = CommittedIndex.read(dir, advice);
    long snapshotIndex = newestSnapshot(dir, prefix, advice);
    TreeMap<Long, Path> segments = new TreeMap<>();
    Pattern segmentName = Pattern.compile(Pattern.quote(prefix) + "-(\\d+)\\.log");
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = segmentName.matcher(p.getFileName().toString());
        if (m.matches()) {
          segments.put(Long.parseLong(m.group(1)), p);
        }
      }
    }
    dropSpare(segments);
    if (segments.isEmpty()) {
      if (committed > snapshotIndex) {
        throw new DamagedLogException("the Raft log in " + dir + " is missing: entries up to index " + committed
            + " were committed here, and no segment file is left; " + advice);
      }
      return new Result(0, -1, snapshotIndex, 0, committed, null, 0);
    }
    long firstIndex = 0;
    long expectedIndex = -1;
    long tornIndex = 0;
    long newestEnd = 0;
    List<Long> ids = new ArrayList<>(segments.keySet());
    for (int i = 0; i < ids.size(); i++) {
      long id = ids.get(i);
      Path file = segments.get(id);
      boolean last = i == ids.size() - 1;
      Segment s = readSegment(file, id, last, committed, advice);
      if (expectedIndex == -1) {
        firstIndex = s.firstIndex;
        if (firstIndex > snapshotIndex + 1) {
          throw new DamagedLogException("the Raft log in " + dir + " begins at index " + firstIndex
              + " but no snapshot covers the entries before it (the newest complete snapshot is "
              + (snapshotIndex == 0 ? "none" : "at index " + snapshotIndex) + "): a snapshot or segment file is"
              + " missing or damaged; " + advice);
        }
      } else if (s.firstIndex != expectedIndex) {
        throw new DamagedLogException("the Raft log in " + dir + " has a gap: " + file.getFileName() + " begins at index "
            + s.firstIndex + ", the segment before it ends at index " + (expectedIndex - 1)
            + " (a segment is missing or damaged); " + advice);
      }
      expectedIndex = s.firstIndex + s.entries;
      newestEnd = s.end;
      if (s.tornIndex != 0) {
        tornIndex = s.tornIndex;
      }
    }
    long lastIndex = expectedIndex - 1;
    if (Math.max(lastIndex, snapshotIndex) < committed) {
      throw new DamagedLogException("the Raft log in " + dir + " ends at index " + lastIndex + " but entries up to index "
          + committed + " were committed here (" + CommittedIndex.FILE + "): its end is missing or was zeroed; "
          + advice);
    }
    return new Result(firstIndex, lastIndex, snapshotIndex, tornIndex, committed, segments.lastEntry().getValue(),
        newestEnd);
  }

  private record Segment(long firstIndex, long entries, long tornIndex, long end) {}

  /**
   * Deletes the spare segment {@link SegmentSpace} allocated ahead of Atomix (an all-zero file
   * with the next id): Atomix would read its empty header as a segment of id 0.
   */
  private static void dropSpare(TreeMap<Long, Path> segments) throws IOException {
    if (segments.isEmpty()) {
      return;
    }
    Path newest = segments.lastEntry().getValue();
    ByteBuffer header = ByteBuffer.allocate(DESCRIPTOR_BYTES);
    try (FileChannel channel = FileChannel.open(newest, StandardOpenOption.READ)) {
      if (channel.size() < DESCRIPTOR_BYTES) {
        return; // cut short: reported as such
      }
      readFully(channel, header, 0);
    }
    for (int i = 0; i < DESCRIPTOR_BYTES; i++) {
      if (header.get(i) != 0) {
        return;
      }
    }
    log.debug("removing the unused spare segment {}", newest);
    Files.delete(newest);
    segments.remove(segments.lastKey());
  }

  private static Segment readSegment(Path file, long id, boolean last, long committed, String advice)
      throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long size = channel.size();
      if (size < DESCRIPTOR_BYTES) {
        throw new DamagedLogException("the Raft log segment " + file + " is cut short (" + size
            + " bytes, not even its 64-byte header); " + advice);
      }
      ByteBuffer header = ByteBuffer.allocate(DESCRIPTOR_BYTES).order(ByteOrder.BIG_ENDIAN);
      readFully(channel, header, 0);
      header.flip();
      int version = header.getInt();
      long headerId = header.getLong();
      long firstIndex = header.getLong();
      int maxSegmentSize = header.getInt();
      if (version != 1 || headerId != id || firstIndex < 1 || maxSegmentSize < DESCRIPTOR_BYTES) {
        throw new DamagedLogException("the Raft log segment " + file + " has a damaged header (version " + version
            + ", id " + headerId + ", first index " + firstIndex + ", size " + maxSegmentSize + "); " + advice);
      }
      if (size < maxSegmentSize) {
        // Atomix creates every segment at its full size (RandomAccessFile.setLength) before writing.
        throw new DamagedLogException("the Raft log segment " + file + " is cut short: " + size + " of its "
            + maxSegmentSize + " bytes; the entries in the lost part cannot be recovered from it; " + advice);
      }
      ByteBuffer data = channel.map(FileChannel.MapMode.READ_ONLY, 0, size).order(ByteOrder.BIG_ENDIAN);
      int position = DESCRIPTOR_BYTES;
      long index = firstIndex;
      CRC32 crc = new CRC32();
      while (position + 8 <= size) {
        int length = data.getInt(position);
        if (length == 0) {
          break; // the end (what follows, if anything, was never part of the log or is stale)
        }
        if (!validEntry(data, position, size, crc)) {
          boolean fits = length > 0 && position + 8L + length <= size;
          if (fits && validEntry(data, (int) (position + 8L + length), size, crc)) {
            throw damaged(file, position, index, "its checksum does not match, and the entries after it are intact",
                advice);
          }
          if (!last) {
            break; // the segment ends early; whether the next one lines up is checked by the caller
          }
          if (index <= committed) {
            throw damaged(file, position, index, "it is incomplete or its checksum does not match, but entries up to "
                + committed + " were committed here", advice);
          }
          long end = fits ? position + 8L + length : Math.min(size, position + 8L);
          log.warn("the Raft log segment {} ends in an incomplete entry at offset {} (index {}), left by an"
              + " interrupted write; it is dropped", file, position, index);
          zero(channel, position, end);
          return new Segment(firstIndex, index - firstIndex, index, position);
        }
        position += 8 + length;
        index++;
      }
      return new Segment(firstIndex, index - firstIndex, 0, position);
    }
  }

  /** Whether an entry with a plausible length and a matching checksum starts at {@code position}. */
  private static boolean validEntry(ByteBuffer data, int position, long size, CRC32 crc) {
    if (position + 8L > size) {
      return false;
    }
    int length = data.getInt(position);
    if (length <= 0 || position + 8L + length > size) {
      return false;
    }
    ByteBuffer entry = data.duplicate().position(position + 8).limit(position + 8 + length);
    crc.reset();
    crc.update(entry);
    return (int) crc.getValue() == data.getInt(position + 4);
  }

  private static DamagedLogException damaged(Path file, int offset, long index, String what, String advice) {
    return new DamagedLogException("the Raft log segment " + file + " is damaged at offset " + offset + " (entry "
        + index + "): " + what + "; the log after it cannot be trusted; " + advice);
  }

  private static void zero(FileChannel channel, long from, long to) throws IOException {
    ByteBuffer zeros = ByteBuffer.allocate((int) Math.min(to - from, 1 << 20));
    for (long p = from; p < to; ) {
      zeros.clear().limit((int) Math.min(zeros.capacity(), to - p));
      p += channel.write(zeros, p);
    }
    channel.force(true);
  }

  private static void readFully(FileChannel channel, ByteBuffer buffer, long position) throws IOException {
    while (buffer.hasRemaining()) {
      int n = channel.read(buffer, position + buffer.position());
      if (n < 0) {
        throw new IOException("unexpected end of file");
      }
    }
  }

  /** Index of the newest locked snapshot; unlocked ones (interrupted while written) Atomix deletes itself. */
  private static long newestSnapshot(Path dir, String prefix, String advice) throws IOException {
    Pattern snapshotName = Pattern.compile(Pattern.quote(prefix) + "-(\\d+)\\.snapshot");
    long newest = 0;
    try (Stream<Path> files = Files.list(dir)) {
      for (Path p : (Iterable<Path>) files::iterator) {
        Matcher m = snapshotName.matcher(p.getFileName().toString());
        if (!m.matches()) {
          continue;
        }
        long nameIndex = Long.parseLong(m.group(1));
        ByteBuffer header = ByteBuffer.allocate(DESCRIPTOR_BYTES).order(ByteOrder.BIG_ENDIAN);
        try (FileChannel channel = FileChannel.open(p, StandardOpenOption.READ)) {
          if (channel.size() < DESCRIPTOR_BYTES) {
            throw new DamagedLogException("the snapshot " + p + " is cut short (" + channel.size() + " bytes); " + advice);
          }
          readFully(channel, header, 0);
        }
        header.flip();
        long index = header.getLong();
        header.getLong(); // timestamp
        int version = header.getInt();
        byte locked = header.get();
        if (locked == 0) {
          continue; // never completed; Atomix deletes it
        }
        if (index != nameIndex || version != 1 || locked != 1) {
          throw new DamagedLogException("the snapshot " + p + " has a damaged header (index " + index + ", version "
              + version + ", locked " + locked + "); " + advice);
        }
        newest = Math.max(newest, index);
      }
    }
    return newest;
  }
}

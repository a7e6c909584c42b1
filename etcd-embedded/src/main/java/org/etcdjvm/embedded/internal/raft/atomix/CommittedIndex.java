package org.etcdjvm.embedded.internal.raft.atomix;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32;

/**
 * A high-water mark of the Raft log: the index of the last entry this member applied, kept in
 * {@code raft/committed-index}. Atomix flushes the log up to the commit index before an entry is
 * applied, so every index written here was on disk before it was written. At start it tells a
 * damaged or shortened log from one whose last write was interrupted: an entry at or below the
 * mark was committed and must be there ({@link LogVerifier}).
 *
 * <p>Written on every applied command into the page cache, without a flush of its own: after a
 * process crash it is exact; after a power loss it can only be lower than the truth, never
 * higher, which errs towards accepting an interrupted write. Format: magic {@code "ECI1"}, the
 * index, the CRC32 of the index; 16 bytes, rewritten in place. Not thread-safe: Atomix's state
 * thread writes it.
 */
final class CommittedIndex implements AutoCloseable {
  static final String FILE = "committed-index";
  private static final int MAGIC = 0x45434931;

  private final FileChannel channel;
  private final ByteBuffer buffer = ByteBuffer.allocate(16);
  private long written;

  private CommittedIndex(FileChannel channel, long index) {
    this.channel = channel;
    this.written = index;
  }

  /** Opens (creating it if missing) the mark in {@code raftDir}, which holds {@code start}. */
  static CommittedIndex open(Path raftDir, long start) throws IOException {
    FileChannel channel = FileChannel.open(raftDir.resolve(FILE), StandardOpenOption.CREATE, StandardOpenOption.READ,
        StandardOpenOption.WRITE);
    return new CommittedIndex(channel, start);
  }

  /**
   * The mark in {@code raftDir}: 0 when there is none.
   *
   * @throws LogVerifier.DamagedLogException when the file exists but is not a mark
   */
  static long read(Path raftDir, String advice) throws IOException {
    Path file = raftDir.resolve(FILE);
    if (!Files.isRegularFile(file)) {
      return 0;
    }
    byte[] bytes = Files.readAllBytes(file);
    if (bytes.length == 0) {
      return 0; // created, never written
    }
    ByteBuffer b = ByteBuffer.wrap(bytes);
    if (bytes.length < 16 || b.getInt() != MAGIC) {
      throw new LogVerifier.DamagedLogException("the file " + file + " is damaged (not a committed index mark); "
          + advice);
    }
    long index = b.getLong();
    if ((int) crc(index) != b.getInt()) {
      throw new LogVerifier.DamagedLogException("the file " + file + " is damaged (its checksum does not match); "
          + advice);
    }
    return index;
  }

  /** Records that {@code index} was applied (so flushed before); lower indexes are ignored. */
  void applied(long index) throws IOException {
    if (index <= written) {
      return;
    }
    buffer.clear();
    buffer.putInt(MAGIC).putLong(index).putInt((int) crc(index)).flip();
    while (buffer.hasRemaining()) {
      channel.write(buffer, buffer.position());
    }
    written = index;
  }

  private static long crc(long index) {
    CRC32 crc = new CRC32();
    crc.update(ByteBuffer.allocate(8).putLong(0, index));
    return crc.getValue();
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}

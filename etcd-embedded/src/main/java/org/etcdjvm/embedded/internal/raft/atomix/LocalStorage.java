package org.etcdjvm.embedded.internal.raft.atomix;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import org.etcdjvm.embedded.internal.raft.RaftConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This member's data directory around Atomix's storage in {@code <data-dir>/raft}: what is checked
 * before Atomix reads it ({@link LogVerifier}, the storage lock's owner), the disk space allocated
 * ahead of Atomix ({@link SegmentSpace}), the {@link CommittedIndex} mark, and the cluster id in
 * {@code <data-dir>/cluster-id}.
 *
 * <p>Thread-safe: its state is volatile; the mark is written from Atomix's state thread only.
 */
final class LocalStorage {
  private static final Logger log = LoggerFactory.getLogger(LocalStorage.class);
  private static final String CLUSTER_ID_FILE = "cluster-id";

  private final RaftConfig config;
  private final String group;
  private final String self;
  private final Path raftDir;
  private final SegmentSpace segments;
  private volatile String clusterId;
  /** Index of the newest snapshot found at start (0: none). */
  private volatile long snapshotAtStart;
  /** Whether the log had no segment before Atomix opened it (then Atomix creates the first one, sparse). */
  private volatile boolean noSegmentAtStart;
  private volatile CommittedIndex committedIndex;

  LocalStorage(RaftConfig config, String group, String self) {
    this.config = config;
    this.group = group;
    this.self = self;
    this.raftDir = config.dataDir().resolve("raft");
    this.segments = new SegmentSpace(raftDir, group, config.segmentBytes());
  }

  Path raftDir() {
    return raftDir;
  }

  /** Creates the directories if needed, checks they are writable, reads the cluster id. */
  void prepare() {
    try {
      Files.createDirectories(raftDir);
    } catch (IOException | RuntimeException e) {
      throw new IllegalStateException("cannot use data directory " + config.dataDir() + ": " + e, e);
    }
    if (!Files.isWritable(raftDir)) {
      throw new IllegalStateException("data directory " + raftDir + " is not writable");
    }
    Path idFile = config.dataDir().resolve(CLUSTER_ID_FILE);
    try {
      clusterId = Files.isRegularFile(idFile) ? Files.readString(idFile, StandardCharsets.UTF_8).trim() : null;
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + idFile + ": " + e.getMessage(), e);
    }
  }

  /** The id of the cluster this data directory belongs to; null before it has one. */
  String clusterId() {
    return clusterId;
  }

  void saveClusterId(String id) {
    clusterId = id;
    Path idFile = config.dataDir().resolve(CLUSTER_ID_FILE);
    try {
      Path tmp = idFile.resolveSibling(CLUSTER_ID_FILE + ".tmp");
      Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, idFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot write " + idFile + ": " + e.getMessage(), e);
    }
  }

  /** What to do about damaged storage, as every such message says. */
  String damageAdvice() {
    return "if this member's cluster has other healthy members, delete the data directory " + config.dataDir()
        + " and start it again (it rejoins under the same peer address and catches up from the others);"
        + " if it is the only member, restore the data directory from a backup";
  }

  /**
   * Before Atomix opens the storage: the directory must belong to this member (Atomix's lock
   * holds the owner's id), the log and snapshots must be sound ({@link LogVerifier}), the newest
   * segment's unwritten rest gets its disk space, and the committed-index mark is opened.
   *
   * @throws IllegalStateException naming the problem and what to do
   */
  void verify() {
    Path lock = raftDir.resolve("." + group + ".lock");
    try {
      if (Files.isRegularFile(lock)) {
        // Atomix's storage lock (RaftStorage.lock): the id, i.e. peer address, of the member the
        // directory belongs to, as Atomix's Buffer.writeString writes it (a boolean, an unsigned
        // short length, the UTF-8 bytes).
        byte[] bytes = Files.readAllBytes(lock);
        int length = bytes.length >= 3 ? ((bytes[1] & 0xff) << 8) | (bytes[2] & 0xff) : -1;
        String owner = bytes.length >= 3 && bytes[0] == 1 && 3 + length <= bytes.length
            ? new String(bytes, 3, length, StandardCharsets.UTF_8) : "";
        if (!owner.isEmpty() && !owner.equals(self)) {
          throw new IllegalStateException("node " + config.name() + " must not start: the data directory "
              + config.dataDir() + " belongs to the member at " + owner + ", not " + self
              + "; start it with that peer address (-s " + owner + ") or use another data directory");
        }
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + lock + ": " + e, e);
    }
    try {
      try (var leftovers = Files.newDirectoryStream(raftDir, ".spare-*.tmp")) {
        for (Path p : leftovers) {
          Files.deleteIfExists(p); // a spare segment whose allocation was interrupted
        }
      }
      LogVerifier.Result result = LogVerifier.verify(raftDir, group, damageAdvice());
      snapshotAtStart = result.snapshotIndex();
      noSegmentAtStart = result.newestSegment() == null;
      if (result.newestSegment() != null) {
        SegmentSpace.back(result.newestSegment(), result.newestEnd());
      }
      committedIndex = CommittedIndex.open(raftDir, result.committed());
    } catch (LogVerifier.DamagedLogException e) {
      throw new IllegalStateException("node " + config.name() + " must not start: " + e.getMessage(), e);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read the Raft log in " + raftDir + ": " + e, e);
    }
  }

  /** Index of the newest complete snapshot found at start, 0 without one. */
  long snapshotAtStart() {
    return snapshotAtStart;
  }

  /**
   * Atomix created the first segment of a new log when the server was built, sparse; nothing has
   * been appended to it yet, so its space is allocated now ({@link SegmentSpace}).
   */
  void backFirstSegment() {
    if (!noSegmentAtStart) {
      return;
    }
    Path first = raftDir.resolve(group + "-1.log");
    try {
      if (Files.isRegularFile(first)) {
        SegmentSpace.back(first, 64);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot allocate disk space for the Raft log in " + raftDir + ": "
          + e.getMessage(), e);
    }
  }

  /** Allocates the next log segment ahead of Atomix's need (see {@link SegmentSpace}); best effort. */
  void prepareNextSegment() {
    try {
      segments.prepareNext(Files.getFileStore(config.dataDir()).getUsableSpace());
    } catch (IOException | RuntimeException e) {
      log.debug("{}: could not allocate the next log segment ahead (Atomix will create it, sparse)", config.name(), e);
    }
  }

  /** Bytes of the log's segment files, the spare not counted. */
  long logBytes() {
    return segments.usedBytes();
  }

  /** The command at Raft index {@code index} was applied (so the log up to it was flushed). */
  void applied(long index) {
    CommittedIndex mark = committedIndex;
    if (mark != null) {
      try {
        mark.applied(index);
      } catch (IOException e) {
        log.debug("cannot record the committed index {} (a lower mark only lets more damage pass as an"
            + " interrupted write)", index, e);
      }
    }
  }

  /**
   * Closes the mark, first raising it to {@code committedAtClose} (0: unknown), every entry up to
   * which is on disk: Atomix's shutdown flushed the log.
   */
  void close(long committedAtClose) {
    CommittedIndex mark = committedIndex;
    committedIndex = null;
    if (mark != null) {
      try {
        if (committedAtClose > 0) {
          mark.applied(committedAtClose);
        }
        mark.close();
      } catch (IOException e) {
        log.debug("closing the committed index failed", e);
      }
    }
  }
}

package org.etcdjvm.embedded.internal.raft;

import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Free space on the data directory's file system, against a floor: below it this member takes no
 * more log entries (writes are refused with "disk full", a follower declines appends) and keeps
 * serving reads; when space returns, writes resume. {@link #refresh} reads the file system (one
 * {@code statfs}); the node calls it every 100 ms, so {@link #low} costs a volatile read.
 *
 * <p>Thread-safe.
 */
public final class DiskSpace {
  private static final Logger log = LoggerFactory.getLogger(DiskSpace.class);
  private static final long WARN_EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

  private final Path dir;
  private final long floorBytes;
  private volatile FileStore store;
  private volatile long usable = Long.MAX_VALUE;
  private volatile boolean low;
  private long lastWarning;

  public DiskSpace(Path dir, long floorBytes) {
    this.dir = dir;
    this.floorBytes = floorBytes;
  }

  /** Reads the free space now; logs a WARN when it falls below the floor (at most once a minute) and an INFO when it is back. */
  public void refresh() {
    try {
      FileStore fs = store;
      if (fs == null) {
        Path existing = dir.toAbsolutePath();
        while (existing.getParent() != null && !Files.exists(existing)) {
          existing = existing.getParent(); // not created yet: the disk it will be created on
        }
        fs = Files.getFileStore(existing);
        if (existing.equals(dir.toAbsolutePath())) {
          store = fs;
        }
      }
      long now = fs.getUsableSpace();
      usable = now;
      boolean wasLow = low;
      low = now < floorBytes;
      if (low && (!wasLow || System.nanoTime() - lastWarning > WARN_EVERY_NANOS)) {
        lastWarning = System.nanoTime();
        log.warn("{}: writes are refused until space is freed", describe());
      } else if (!low && wasLow) {
        log.info("disk space on {} is back ({} MB free): writes resume", dir, now / (1024 * 1024));
      }
    } catch (IOException | RuntimeException e) {
      log.debug("cannot read the free space of {}: {}", dir, e.toString());
    }
  }

  /** Whether the free space was below the floor at the last {@link #refresh}. */
  public boolean low() {
    return low;
  }

  /** Usable bytes at the last refresh. */
  public long usable() {
    return usable;
  }

  /** {@code disk full: 12 MB free on <dir>, fewer than the 50 MB floor} */
  public String describe() {
    return "disk full: " + usable / (1024 * 1024) + " MB free on " + dir + ", fewer than the "
        + floorBytes / (1024 * 1024) + " MB this node keeps free";
  }
}

package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.storage.statistics.StorageStatistics;
import java.io.File;
import java.lang.management.ManagementFactory;

/**
 * Atomix's {@link StorageStatistics} without the JVM's platform MBean server: the disk figures are
 * Atomix's own (from the data directory, which {@link AtomixInternals#buildStorage} sets), and free
 * and total memory, which Atomix reads through that server's {@code OperatingSystem} MXBean, come
 * from the same MXBean taken directly.
 *
 * <p>Instances are made only by {@link AtomixInternals#buildStorage}, without running a
 * constructor: the superclass's constructor is what creates the platform MBean server (about 0.2 s
 * of CPU on a fresh JVM). Thread-safe (Atomix reads it on its state-machine thread).
 */
final class OsStorageStatistics extends StorageStatistics {

  /** Never called (see the class comment); here because a subclass must declare one. */
  private OsStorageStatistics(File directory) {
    super(directory);
  }

  @Override
  public long getFreeMemory() {
    com.sun.management.OperatingSystemMXBean os = Os.BEAN;
    return os == null ? -1 : os.getFreeMemorySize();
  }

  @Override
  public long getTotalMemory() {
    com.sun.management.OperatingSystemMXBean os = Os.BEAN;
    return os == null ? -1 : os.getTotalMemorySize();
  }

  /** Created when Atomix first asks (its compaction check), not at start. */
  private static final class Os {
    static final com.sun.management.OperatingSystemMXBean BEAN = bean();

    private static com.sun.management.OperatingSystemMXBean bean() {
      try {
        return ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os
            ? os : null; // -1 then, as Atomix answers when its MBean query fails
      } catch (RuntimeException | LinkageError e) {
        return null;
      }
    }
  }
}

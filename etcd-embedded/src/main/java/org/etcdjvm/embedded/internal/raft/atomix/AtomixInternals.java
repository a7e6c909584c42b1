package org.etcdjvm.embedded.internal.raft.atomix;

import io.atomix.protocols.raft.RaftServer;
import io.atomix.protocols.raft.impl.DefaultRaftServer;
import io.atomix.protocols.raft.impl.RaftContext;
import io.atomix.protocols.raft.roles.LeaderRole;
import io.atomix.protocols.raft.roles.RaftRole;
import io.atomix.protocols.raft.storage.system.Configuration;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every reach into Atomix's internals, in one place. Each was checked against Atomix 3.1.12 (commit
 * 7e24f486d, the last 3.1 release); an upgrade re-checks this file.
 */
final class AtomixInternals {
  private static final Logger log = LoggerFactory.getLogger(AtomixInternals.class);

  private AtomixInternals() {}

  /**
   * {@code NettyMessagingService.serverChannel} (private field, set once the port is bound): the
   * messaging service's listening channel; null if it is not that class or the field is gone.
   */
  static io.netty.channel.Channel serverChannel(io.atomix.cluster.messaging.MessagingService messaging) {
    try {
      Field field = io.atomix.cluster.messaging.impl.NettyMessagingService.class.getDeclaredField("serverChannel");
      field.setAccessible(true);
      return messaging instanceof io.atomix.cluster.messaging.impl.NettyMessagingService
          ? (io.netty.channel.Channel) field.get(messaging) : null;
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("cannot read Atomix's messaging server channel", e);
      return null;
    }
  }

  /**
   * Ends Atomix's messaging shutdown without Netty's 2 s quiet period. {@code
   * NettyMessagingService.stop()}, the last step of {@code AtomixCluster.stop()}, calls {@code
   * shutdownGracefully()} on its two event-loop groups with Netty's defaults, so each loop waits
   * until it has run no task for 2 s: every close of a node took over 2 s. Once both groups are
   * shutting down (everything else in the cluster has stopped by then), their loops' quiet period
   * ({@code SingleThreadEventExecutor.gracefulShutdownQuietPeriod}, read on every check) is set
   * to 0: they run what is queued and end within Netty's 100 ms check interval. ({@code
   * shutdown()} would not do: it returns at once for a loop already shutting down.) Waits at
   * most {@code timeoutMillis} for that moment; does nothing if the service is not Netty's or the
   * fields are gone.
   *
   * @return whether the quiet period was ended (false: the stop took its usual course)
   */
  static boolean hurryMessagingShutdown(io.atomix.cluster.messaging.MessagingService messaging,
      CompletableFuture<?> stopping, long timeoutMillis) {
    io.netty.channel.EventLoopGroup server;
    io.netty.channel.EventLoopGroup client;
    Field quietPeriod;
    try {
      if (!(messaging instanceof io.atomix.cluster.messaging.impl.NettyMessagingService)) {
        return false;
      }
      Class<?> type = io.atomix.cluster.messaging.impl.NettyMessagingService.class;
      server = (io.netty.channel.EventLoopGroup) readField(type, "serverGroup", messaging);
      client = (io.netty.channel.EventLoopGroup) readField(type, "clientGroup", messaging);
      quietPeriod = io.netty.util.concurrent.SingleThreadEventExecutor.class.getDeclaredField("gracefulShutdownQuietPeriod");
      quietPeriod.setAccessible(true);
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("cannot reach Atomix's messaging event loops", e);
      return false;
    }
    if (server == null || client == null) {
      return false;
    }
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    try {
      while (!stopping.isDone() && System.nanoTime() - deadline < 0) {
        if (server.isShuttingDown() && client.isShuttingDown()) {
          for (io.netty.channel.EventLoopGroup group : new io.netty.channel.EventLoopGroup[] {server, client}) {
            for (io.netty.util.concurrent.EventExecutor loop : group) {
              if (loop instanceof io.netty.util.concurrent.SingleThreadEventExecutor) {
                quietPeriod.setLong(loop, 0);
              }
            }
          }
          return true;
        }
        Thread.sleep(1);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IllegalAccessException | RuntimeException e) {
      log.debug("cannot shorten Atomix's messaging shutdown", e);
    }
    return false;
  }

  private static Object readField(Class<?> type, String name, Object target) throws ReflectiveOperationException {
    Field field = type.getDeclaredField(name);
    field.setAccessible(true);
    return field.get(target);
  }

  /**
   * Keeps every log segment that is mapped now mapped until Atomix deletes it, by setting the
   * segment's {@code JournalSegment.storageLevel} (private final) to {@code DISK}: its
   * {@code map()} and {@code unmap()} then do nothing, and its mapped writer and readers stay.
   *
   * <p>Why: when the last reader of a mapped segment moves on (every segment, soon after the writer
   * rolls to the next), Atomix unmaps it and builds a file-channel writer for it, whose constructor
   * reads and deserializes every entry of the segment ({@code FileChannelJournalSegmentWriter.reset},
   * with a buffer of 2 x the maximum entry size). That ran on the Raft thread (from
   * {@code RaftServiceManager.applyIndex}): 0.4-0.5 s without appends or commits per 16 MB of log,
   * whatever the store's size (JFR; a write every 5 ms saw 360-580 ms every 3.5-4 s under load).
   * Atomix's close of a segment (compaction) frees the mapping as before; the readers it resets
   * then ({@code SegmentedJournal.resetHead}) and every reader of the log run on the Raft thread,
   * so none reads a freed mapping. Mapped segments hold file pages, not heap. A segment written
   * full and left before a call here saw it (20 ms apart: more than 16 MB in that time) is
   * unmapped as before, with the pause. Setting a final field by reflection works on JDK 17-25;
   * JEP 500 makes later JDKs warn and then refuse, and a refusal ends here as the -1 below.
   *
   * @return how many segments were switched; -1 when Atomix's internals are not what this expects
   *     (then nothing changes: Atomix goes on unmapping, with the pause above)
   */
  static int keepSegmentsMapped(RaftContext context) {
    try {
      int switched = 0;
      for (io.atomix.storage.journal.JournalSegment<?> segment : segmentsOf(context)) {
        if (segment.isOpen() && SegmentAccess.STORAGE_LEVEL.get(segment) == io.atomix.storage.StorageLevel.MAPPED
            && SegmentAccess.WRITER_BUFFER.invoke(segment.writer()) != null) {
          SegmentAccess.STORAGE_LEVEL.set(segment, io.atomix.storage.StorageLevel.DISK);
          switched++;
        }
      }
      return switched;
    } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
      return -1;
    }
  }

  /**
   * The log's segments whose storage level is not {@code DISK} or whose writer is not mapped, by
   * file name: those {@link #keepSegmentsMapped} has not kept mapped. For tests.
   */
  static java.util.List<String> segmentsNotKeptMapped(RaftContext context) throws ReflectiveOperationException {
    java.util.List<String> names = new java.util.ArrayList<>();
    for (io.atomix.storage.journal.JournalSegment<?> segment : segmentsOf(context)) {
      if (SegmentAccess.STORAGE_LEVEL.get(segment) != io.atomix.storage.StorageLevel.DISK
          || SegmentAccess.WRITER_BUFFER.invoke(segment.writer()) == null) {
        names.add(segment.file().file().getName());
      }
    }
    return names;
  }

  /** How many segments the log has. For tests. */
  static int segmentCount(RaftContext context) throws ReflectiveOperationException {
    return segmentsOf(context).size();
  }

  /** {@code RaftLog.journal} (private final field): the segmented journal under the Raft log. */
  private static java.util.Collection<? extends io.atomix.storage.journal.JournalSegment<?>> segmentsOf(
      RaftContext context) throws ReflectiveOperationException {
    return ((io.atomix.storage.journal.SegmentedJournal<?>) SegmentAccess.JOURNAL.get(context.getLog())).segments();
  }

  /** The reflective handles of {@link #keepSegmentsMapped}, resolved on first use. */
  private static final class SegmentAccess {
    static final Field JOURNAL;
    static final Field STORAGE_LEVEL;
    static final Method WRITER_BUFFER;

    static {
      try {
        JOURNAL = io.atomix.protocols.raft.storage.log.RaftLog.class.getDeclaredField("journal");
        JOURNAL.setAccessible(true);
        STORAGE_LEVEL = io.atomix.storage.journal.JournalSegment.class.getDeclaredField("storageLevel");
        STORAGE_LEVEL.setAccessible(true);
        WRITER_BUFFER = Class.forName("io.atomix.storage.journal.MappableJournalSegmentWriter")
            .getDeclaredMethod("buffer"); // package-private class
        WRITER_BUFFER.setAccessible(true);
      } catch (ReflectiveOperationException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * Puts {@code store} in place of {@code RaftContext.snapshotStore} (private final, Atomix's own
   * store, which {@code RaftStorage.openSnapshotStore()} made in the context's constructor; used only
   * through {@code getSnapshotStore()}). Call before the server starts. If the field cannot be set
   * (a later JDK refusing to set final fields), Atomix's store stays: snapshots are then written on
   * the state-machine thread, as before, and one debug line says so.
   *
   * @return whether the store was replaced
   */
  static boolean replaceSnapshotStore(RaftContext context, io.atomix.protocols.raft.storage.snapshot.SnapshotStore store) {
    try {
      Field field = RaftContext.class.getDeclaredField("snapshotStore");
      field.setAccessible(true);
      field.set(context, store);
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("cannot replace Atomix's snapshot store: snapshots are written on the state-machine thread", e);
      return false;
    }
  }

  /**
   * {@code builder.build()}, without the JVM's platform MBean server. Atomix's {@code RaftStorage}
   * constructor makes a {@code StorageStatistics}, whose constructor calls
   * {@code ManagementFactory.getPlatformMBeanServer()}: on a fresh JVM that registers every platform
   * MXBean and builds the diagnostic commands' descriptions (JFR's parse its configuration files),
   * about 0.2 s of CPU, a quarter of a node's start-up, for one use: Atomix's compaction check
   * reads free and total memory through it. Here the storage is made without its constructor (its
   * 12 settings copied from the builder's fields of the same names) and its statistics are an
   * {@link OsStorageStatistics}, which reads the memory figures from the operating-system MXBean
   * directly. If Atomix's fields are not what this expects, or the JDK refuses to set final fields
   * (JEP 500), this is {@code builder.build()} (one debug line).
   */
  static io.atomix.protocols.raft.storage.RaftStorage buildStorage(
      io.atomix.protocols.raft.storage.RaftStorage.Builder builder) {
    StorageFields fields = StorageFields.INSTANCE;
    if (fields != null) {
      try {
        return fields.build(builder);
      } catch (ReflectiveOperationException | RuntimeException e) {
        log.debug("cannot build Atomix's storage without the platform MBean server", e);
      }
    }
    return builder.build();
  }

  /** Whether {@link #buildStorage} can leave the platform MBean server alone on this JVM. */
  static boolean storageWithoutMBeanServer() {
    return StorageFields.INSTANCE != null;
  }

  /** The reflection {@link #buildStorage} needs, resolved once; null when Atomix or the JDK differ. */
  private static final class StorageFields {
    static final StorageFields INSTANCE = resolve();

    private final java.lang.reflect.Constructor<?> newStorage;
    private final java.lang.reflect.Constructor<?> newStatistics;
    private final Field statisticsFile;
    private final Field statistics;
    /** Pairs: the builder's field, the storage's field of the same name and type. */
    private final java.util.List<Field[]> settings;

    private StorageFields(java.lang.reflect.Constructor<?> newStorage, java.lang.reflect.Constructor<?> newStatistics,
        Field statisticsFile, Field statistics, java.util.List<Field[]> settings) {
      this.newStorage = newStorage;
      this.newStatistics = newStatistics;
      this.statisticsFile = statisticsFile;
      this.statistics = statistics;
      this.settings = settings;
    }

    private static StorageFields resolve() {
      Class<?> storage = io.atomix.protocols.raft.storage.RaftStorage.class;
      Class<?> builder = io.atomix.protocols.raft.storage.RaftStorage.Builder.class;
      try {
        java.util.List<Field[]> settings = new java.util.ArrayList<>();
        Field statistics = null;
        for (Field to : storage.getDeclaredFields()) {
          if (java.lang.reflect.Modifier.isStatic(to.getModifiers())) {
            continue;
          }
          if (to.getName().equals("statistics") && to.getType() == io.atomix.storage.statistics.StorageStatistics.class) {
            statistics = to;
            continue;
          }
          Field from = builder.getDeclaredField(to.getName());
          if (from.getType() != to.getType() || java.lang.reflect.Modifier.isStatic(from.getModifiers())) {
            throw new NoSuchFieldException(to.getName() + " differs in the builder");
          }
          settings.add(new Field[] {from, to});
        }
        if (statistics == null || settings.size() != 12) {
          throw new NoSuchFieldException("RaftStorage has " + settings.size() + " settings, not 12");
        }
        Field statisticsFile = io.atomix.storage.statistics.StorageStatistics.class.getDeclaredField("file");
        for (Field f : java.util.List.of(statistics, statisticsFile)) {
          f.setAccessible(true);
        }
        for (Field[] pair : settings) {
          pair[0].setAccessible(true);
          pair[1].setAccessible(true);
        }
        sun.reflect.ReflectionFactory factory = sun.reflect.ReflectionFactory.getReflectionFactory();
        java.lang.reflect.Constructor<?> object = Object.class.getDeclaredConstructor();
        return new StorageFields(factory.newConstructorForSerialization(storage, object),
            factory.newConstructorForSerialization(OsStorageStatistics.class, object),
            statisticsFile, statistics, java.util.List.copyOf(settings));
      } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
        log.debug("Atomix's storage will create the platform MBean server", e);
        return null;
      }
    }

    io.atomix.protocols.raft.storage.RaftStorage build(io.atomix.protocols.raft.storage.RaftStorage.Builder builder)
        throws ReflectiveOperationException {
      io.atomix.protocols.raft.storage.RaftStorage storage =
          (io.atomix.protocols.raft.storage.RaftStorage) newStorage.newInstance();
      for (Field[] pair : settings) {
        pair[1].set(storage, pair[0].get(builder));
      }
      Object stats = newStatistics.newInstance();
      statisticsFile.set(stats, storage.directory());
      statistics.set(storage, stats);
      storage.directory().mkdirs(); // as the constructor does
      return storage;
    }
  }

  /**
   * Lets Atomix take snapshots again after one failed. Atomix 3.1.12's {@code RaftServiceManager}
   * sets {@code compactFuture} (private volatile) when it starts a snapshot and clears it only once
   * the snapshot is completed and the log compacted; a snapshot whose file could not be written (a
   * full disk, an I/O error) left it set for good, and with it every later snapshot was skipped:
   * the log grew until the disk floor refused writes, even after space came back, until a restart.
   * This clears the field and fails the future (whose callbacks then schedule the next attempt and
   * fail an append that was waiting for compaction). Atomix takes the next snapshot once the log
   * has grown past the failed one's index. Call on the Raft thread, only after a failure of the
   * snapshot that set the field.
   *
   * @return whether a pending compaction was released
   */
  static boolean releaseFailedCompaction(RaftContext context) {
    try {
      io.atomix.protocols.raft.impl.RaftServiceManager manager = context.getServiceManager();
      Field field = io.atomix.protocols.raft.impl.RaftServiceManager.class.getDeclaredField("compactFuture");
      field.setAccessible(true);
      if (!(field.get(manager) instanceof CompletableFuture<?> pending)) {
        return false;
      }
      field.set(manager, null);
      pending.completeExceptionally(new io.atomix.storage.StorageException("the snapshot could not be written"));
      return true;
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("cannot release Atomix's failed compaction: no snapshot is taken until a restart", e);
      return false;
    }
  }

  /** {@code DefaultRaftServer.context} (private final field): the server's whole state. */
  static RaftContext contextOf(RaftServer server) throws ReflectiveOperationException {
    Field field = DefaultRaftServer.class.getDeclaredField("context");
    field.setAccessible(true);
    return (RaftContext) field.get(server);
  }

  /**
   * Index of the configuration this server holds (stored or received); -1 without one. Read through
   * {@code RaftContext.getCluster().getConfiguration()} (public on the internal context class).
   */
  static long configurationIndex(RaftServer server) {
    try {
      Configuration configuration = contextOf(server).getCluster().getConfiguration();
      return configuration == null ? -1 : configuration.index();
    } catch (ReflectiveOperationException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The members of the configuration this server holds (stored or received), or null without one or
   * when it cannot be read. Unlike {@code cluster().getMembers()}, which always keeps the local
   * member ({@code RaftClusterContext.configure} drops only remote members), a configuration that
   * removed this member does not list it. Same path as {@link #configurationIndex}.
   */
  static java.util.List<String> configurationMembers(RaftServer server) {
    try {
      Configuration configuration = contextOf(server).getCluster().getConfiguration();
      if (configuration == null) {
        return null;
      }
      java.util.List<String> ids = new java.util.ArrayList<>();
      for (io.atomix.protocols.raft.cluster.RaftMember m : configuration.members()) {
        ids.add(m.memberId().id());
      }
      return ids;
    } catch (ReflectiveOperationException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Tells the followers the new commit index now instead of with the next heartbeat. Atomix 3.1.12's
   * {@code LeaderAppender} completes a commit once a majority acknowledged the entry, and followers
   * learn the commit index only with the next append: under no other load, one heartbeat interval
   * later, during which a follower serves the previous value. {@code LeaderAppender.appendEntries()}
   * (public; the leader role's private {@code appender} field) sends every follower without an
   * append in flight an append carrying the commit index; it is what the heartbeat timer calls.
   * Runs on the Raft thread, as Atomix requires. Best effort: any failure just leaves it to the
   * heartbeat.
   */
  static void pushCommitIndex(RaftContext context) {
    if (context.getCluster().getRemoteMemberStates().isEmpty()) {
      return; // a cluster of one (a copy-on-write list: safe to read here)
    }
    try {
      context.getThreadContext().execute(() -> {
        try {
          RaftRole role = context.getRaftRole();
          if (role instanceof LeaderRole && role.isRunning() && !context.getCluster().getRemoteMemberStates().isEmpty()) {
            APPEND_ENTRIES.invoke(APPENDER.get(role));
          }
        } catch (ReflectiveOperationException | RuntimeException e) {
          log.debug("pushing the commit index failed", e);
        }
      });
    } catch (RuntimeException closed) {
      // the server is shutting down
    }
  }

  /** {@code LeaderRole.appender} (private) and {@code LeaderAppender.appendEntries()} (a package-private class). */
  private static final Field APPENDER;
  private static final Method APPEND_ENTRIES;

  static {
    try {
      APPENDER = LeaderRole.class.getDeclaredField("appender");
      APPENDER.setAccessible(true);
      APPEND_ENTRIES = APPENDER.getType().getDeclaredMethod("appendEntries");
      APPEND_ENTRIES.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /**
   * Raft's ReadIndex on Atomix 3.1.12's leader, on the Raft thread: the commit index now, then a
   * heartbeat round that a majority answers ({@code LeaderAppender.appendEntries()} completes "the
   * next time a heartbeat is received by a majority of the cluster"). Completes with the commit
   * index; fails if this member is not the leader (or stops being it).
   */
  static CompletableFuture<Long> readIndex(RaftContext context) {
    CompletableFuture<Long> index = new CompletableFuture<>();
    try {
      context.getThreadContext().execute(() -> {
        try {
          RaftRole role = context.getRaftRole();
          if (!(role instanceof LeaderRole) || !role.isRunning()) {
            index.completeExceptionally(new IllegalStateException("not the leader"));
            return;
          }
          long commit = context.getCommitIndex();
          if (context.getCluster().getRemoteMemberStates().isEmpty()) {
            index.complete(commit);
            return;
          }
          @SuppressWarnings("unchecked")
          CompletableFuture<Long> heartbeat = (CompletableFuture<Long>) APPEND_ENTRIES.invoke(APPENDER.get(role));
          heartbeat.whenComplete((v, e) -> {
            if (e != null) {
              index.completeExceptionally(e);
            } else {
              index.complete(commit);
            }
          });
        } catch (ReflectiveOperationException | RuntimeException e) {
          index.completeExceptionally(e);
        }
      });
    } catch (RuntimeException closed) {
      index.completeExceptionally(closed);
    }
    return index;
  }

  /**
   * Stops a server whose start never completed (no leader within the start timeout): it keeps
   * electing and polling, and {@code shutdown()} refuses it ("Server not running"). Its context is
   * stopped the way {@code shutdown()} would have: transition to INACTIVE on its thread, then close.
   */
  static CompletableFuture<Void> stopUnstarted(RaftServer server) {
    CompletableFuture<Void> stopped = new CompletableFuture<>();
    try {
      RaftContext context = contextOf(server);
      context.getThreadContext().execute(() -> {
        try {
          context.transition(RaftServer.Role.INACTIVE);
        } finally {
          stopped.complete(null);
        }
      });
      return stopped.whenComplete((v, e) -> context.close());
    } catch (ReflectiveOperationException | RuntimeException e) {
      log.debug("could not stop a Raft server that never started", e);
      return CompletableFuture.completedFuture(null);
    }
  }
}

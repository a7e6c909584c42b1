package org.etcdjvm.test;

import java.util.ArrayList;
import java.util.List;

/**
 * The two {@code --add-opens} flags Atomix 3.1's serializer (Kryo 4) needs on Java 17+, checked
 * before any node starts, with a failure that holds the lines to paste into a build. Why they
 * cannot be avoided from inside the JVM is explained in the project README ("JVM flags").
 */
final class RequiredJvmFlags {
  static final List<String> PACKAGES = List.of("java.util.concurrent.atomic", "java.util");

  private RequiredJvmFlags() {
  }

  /** Throws an {@link IllegalStateException} naming the flags and the build lines to add, if this JVM lacks one. */
  static void check() {
    Module kryo = kryoModule();
    String target = kryo.isNamed() ? kryo.getName() : "ALL-UNNAMED";
    List<String> missing = new ArrayList<>();
    for (String pkg : PACKAGES) {
      if (!Object.class.getModule().isOpen(pkg, kryo)) {
        missing.add(pkg);
      }
    }
    if (!missing.isEmpty()) {
      throw new IllegalStateException(message(missing, target));
    }
  }

  static String message(List<String> missing, String target) {
    List<String> flags = new ArrayList<>();
    List<String> gradleArgs = new ArrayList<>();
    for (String pkg : PACKAGES) {
      flags.add("--add-opens java.base/" + pkg + "=" + target);
      gradleArgs.add("\"--add-opens\", \"java.base/" + pkg + "=" + target + "\"");
    }
    List<String> missingFlags = new ArrayList<>();
    for (String pkg : missing) {
      missingFlags.add("--add-opens java.base/" + pkg + "=" + target);
    }
    String all = String.join(" ", flags);
    return "etcd-test: this JVM lacks " + String.join(" ", missingFlags) + ", which Atomix 3.1's serializer (Kryo 4)"
        + " needs on Java 17+ to start an etcd node. Run the tests with both flags:\n"
        + "  Maven, maven-surefire-plugin <configuration>:\n"
        + "    <argLine>" + all + "</argLine>\n"
        + "  Gradle, build.gradle.kts:\n"
        + "    tasks.test { jvmArgs(" + String.join(", ", gradleArgs) + ") }\n"
        + "  Gradle, build.gradle:\n"
        + "    test { jvmArgs " + String.join(", ", gradleArgs).replace('"', '\'') + " }\n"
        + "  IDE run configuration, VM options:\n"
        + "    " + all
        + (Runtime.version().feature() >= 24
            ? "\n  On Java 24+ also --enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow, or Netty 4.1"
                + " and Kryo 4 print warnings (Java 17 refuses the second flag)."
            : "");
  }

  private static Module kryoModule() {
    try {
      return Class.forName("com.esotericsoftware.kryo.Kryo", false, RequiredJvmFlags.class.getClassLoader()).getModule();
    } catch (ClassNotFoundException e) {
      return RequiredJvmFlags.class.getModule();
    }
  }
}

package org.etcdjvm.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import java.util.zip.ZipEntry;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * What {@code mvn install} puts in a repository for each published module, read off the files the
 * build attached: the jar with its {@code Automatic-Module-Name}, a sources jar and a javadoc jar
 * of the API (internal packages left out); and a BOM that names them. Runs after the modules are
 * packaged (integration-test phase).
 */
class PublishedArtifactsIT {
  private static final Path ROOT = Path.of(System.getProperty("etcdjvm.root", ".."));
  private static final String TARGET = System.getProperty("etcdjvm.target", "target");
  private static final String VERSION = System.getProperty("etcdjvm.version", "0.1.0-SNAPSHOT");

  @ParameterizedTest
  @CsvSource({
      "etcd-client,   org.etcdjvm.client,   org/etcdjvm/client/EtcdClient",
      "etcd-embedded, org.etcdjvm.embedded, org/etcdjvm/embedded/EtcdNode",
      "etcd-test,     org.etcdjvm.test,     org/etcdjvm/test/EtcdExtension"})
  void eachPublishedModuleHasAModuleNameSourcesAndJavadoc(String module, String moduleName, String type)
      throws IOException {
    Path dir = ROOT.resolve(module).resolve(TARGET);
    try (JarFile jar = new JarFile(dir.resolve(module + "-" + VERSION + ".jar").toFile())) {
      assertThat(jar.getManifest().getMainAttributes().getValue("Automatic-Module-Name")).isEqualTo(moduleName);
      assertThat(jar.getEntry(type + ".class")).isNotNull();
    }
    try (JarFile sources = new JarFile(dir.resolve(module + "-" + VERSION + "-sources.jar").toFile())) {
      assertThat(sources.getEntry(type + ".java")).isNotNull();
    }
    try (JarFile javadoc = new JarFile(dir.resolve(module + "-" + VERSION + "-javadoc.jar").toFile())) {
      List<String> pages = javadoc.stream().map(ZipEntry::getName).filter(n -> n.endsWith(".html")).toList();
      assertThat(pages).anyMatch(p -> p.endsWith(type + ".html"));
      assertThat(pages).as("implementation packages are not documented").noneMatch(p -> p.contains("/internal/"));
    }
  }

  @Test
  void theBomNamesEveryPublishedModuleAtThisVersionAndHasNoParent() throws IOException {
    String bom = Files.readString(ROOT.resolve("etcdjvm-bom/pom.xml"));
    assertThat(bom).doesNotContain("<parent>")
        .contains("<artifactId>etcdjvm-bom</artifactId>\n  <version>" + VERSION + "</version>");
    for (String module : List.of("etcd-client", "etcd-embedded", "etcd-test")) {
      assertThat(bom).contains("<artifactId>" + module + "</artifactId>\n        <version>${project.version}</version>");
    }
  }
}

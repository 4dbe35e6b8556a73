"""The JVM class archive of local Spark: used when built, harmless when it does not fit."""

from __future__ import annotations

import subprocess

from fraud_assets.resources import spark_archive


def _java(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(spark_archive.java_binary()), *args, "-version"], capture_output=True, text=True
    )


def test_the_option_appears_only_once_the_archive_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAUD_SPARK_ARCHIVE_DIR", str(tmp_path))
    assert spark_archive.driver_java_options() == {}
    path = spark_archive.archive_path()
    assert path.parent == tmp_path
    path.write_bytes(b"x")
    options = spark_archive.driver_java_options()["spark.driver.extraJavaOptions"]
    assert f"-XX:SharedArchiveFile={path}" in options


def test_the_test_sessions_driver_maps_the_archive_bin_setup_built(spark):
    path = spark_archive.archive_path()
    assert path.is_file(), "bin/setup builds the archive"
    jvm = spark._jvm
    arguments = list(
        jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments()
    )
    assert f"-XX:SharedArchiveFile={path}" in arguments
    # -Xshare:on turns "archive unusable" into a startup error instead of a silent fallback.
    classpath = jvm.java.lang.System.getProperty("java.class.path")
    mapped = _java("-Xshare:on", f"-XX:SharedArchiveFile={path}", "-cp", classpath)
    assert mapped.returncode == 0, mapped.stderr
    elsewhere = _java("-Xshare:on", f"-XX:SharedArchiveFile={path}", "-cp", "/nonexistent")
    assert elsewhere.returncode != 0


def test_an_archive_that_does_not_fit_is_ignored_quietly(tmp_path):
    foreign = tmp_path / "foreign.jsa"
    foreign.write_bytes(b"not an archive")
    ran = _java(f"-XX:SharedArchiveFile={foreign}", *spark_archive.CDS_QUIET.split())
    assert ran.returncode == 0
    assert "warning" not in ran.stderr.lower() and "error" not in ran.stderr.lower()

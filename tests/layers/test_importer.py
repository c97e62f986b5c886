"""Reading real layer files of every format, written from the built-in boundaries."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pyogrio.raw
import pyproj
import pytest
import shapely
from layer_files import county_features, kmz, shapefile_zip, write_layer

from layers.crs import from_cgcs2000
from layers.errors import LayerError, LayerFileError, UnknownCRSError
from layers.importer import ImportOptions, LayerImport, read_layer
from layers.validation import LEAGUE_CODES


def _by_code(features):
    return {f.code: f for f in features}


def _max_vertex_shift(a, b) -> float:
    ca, cb = shapely.get_coordinates(a), shapely.get_coordinates(b)
    assert ca.shape == cb.shape
    return float(np.abs(ca - cb).max())


def test_gbk_shapefile_without_cpg_is_detected(tmp_path, workdir, leagues):
    upload = shapefile_zip(tmp_path, leagues, encoding="GBK", cpg=False)
    with zipfile.ZipFile(upload) as zf:
        assert not any(n.endswith(".cpg") for n in zf.namelist())
    # What GDAL alone makes of it: no .cpg, no code page byte → the names come out garbled.
    raw_dir = tmp_path / "raw"
    zipfile.ZipFile(upload).extractall(raw_dir)
    _, _, _, fields = pyogrio.raw.read(raw_dir / "layer.shp")
    assert "呼和浩特市" not in list(fields[1])

    features, report = read_layer(upload, workdir, ImportOptions(kind="league"))

    assert {f.code: f.name for f in features} == LEAGUE_CODES
    assert report.features_read == 12 and report.features_kept == 12
    assert "GB18030" in (report.encoding or "")
    assert any(w["code"] == "encoding_detected" for w in report.warnings)
    assert report.code_field == "XZQDM" and report.name_field == "XZQMC"


def test_cpg_is_honoured(tmp_path, workdir, leagues):
    upload = shapefile_zip(tmp_path, leagues, encoding="UTF-8", cpg=True)
    features, report = read_layer(upload, workdir, ImportOptions(kind="league"))
    assert {f.code: f.name for f in features} == LEAGUE_CODES
    assert ".cpg" in (report.encoding or "")
    assert not any(w["code"] == "encoding_detected" for w in report.warnings)


def test_gauss_kruger_zone_shapefile_with_prj(tmp_path, workdir):
    counties = county_features()
    upload = shapefile_zip(tmp_path, counties, crs="EPSG:4525")  # CGCS2000 GK zone 37, CM 111°E
    features, report = read_layer(upload, workdir, ImportOptions(kind="county"))
    assert "4525" in (report.crs_used or "")
    assert "Gauss" in (report.crs_used or "")
    got = _by_code(features)
    for f in counties:
        assert _max_vertex_shift(got[f.code].geometry, f.geometry) < 1e-7  # ~1 cm
    assert not any(w["code"] == "local_datum" for w in report.warnings)


def test_xian_1980_is_accepted_with_a_warning(tmp_path, workdir):
    counties = county_features()
    xian = pyproj.CRS.from_epsg(2382)
    assert "Xian 1980" in xian.name and "111E" in xian.name
    upload = shapefile_zip(tmp_path, counties, crs="EPSG:2382")
    features, report = read_layer(upload, workdir, ImportOptions(kind="county"))
    assert len(features) == len(counties)
    warning = next(w for w in report.warnings if w["code"] == "local_datum")
    assert "西安1980" in warning["message"] and "亚米级" in warning["message"]


def test_shapefile_without_prj_needs_crs(tmp_path, workdir, leagues):
    upload = shapefile_zip(tmp_path, leagues, crs=None)
    with pytest.raises(UnknownCRSError) as err:
        read_layer(upload, workdir, ImportOptions(kind="league"))
    assert err.value.field == "crs"
    features, report = read_layer(upload, workdir / "again", ImportOptions(kind="league",
                                                                             crs="EPSG:4490"))
    assert len(features) == 12 and report.crs_used.startswith("EPSG:4490")


def test_multilayer_geopackage_picks_the_layer(tmp_path, workdir, leagues):
    gpkg = tmp_path / "boundaries.gpkg"
    write_layer(gpkg, leagues, driver="GPKG", layer="leagues")
    write_layer(gpkg, county_features(), driver="GPKG", layer="hohhot_counties", append=True)
    with pytest.raises(LayerFileError) as err:
        read_layer(gpkg, workdir, ImportOptions(kind="league"))
    assert err.value.field == "layer"
    assert "leagues" in err.value.message and "hohhot_counties" in err.value.message
    features, report = read_layer(gpkg, workdir, ImportOptions(kind="county",
                                                               layer="hohhot_counties"))
    assert {f.code for f in features} == {f.code for f in county_features()}
    assert report.layers == ["leagues", "hohhot_counties"]
    with pytest.raises(LayerFileError) as err:
        read_layer(gpkg, workdir, ImportOptions(kind="county", layer="nope"))
    assert err.value.field == "layer"


@pytest.mark.parametrize("fmt", ["geojson", "kml", "kmz"])
def test_geojson_kml_kmz(fmt, tmp_path, workdir, leagues):
    if fmt == "geojson":
        upload = write_layer(tmp_path / "leagues.geojson", leagues, driver="GeoJSON")
    elif fmt == "kml":
        upload = write_layer(tmp_path / "leagues.kml", leagues, driver="KML", crs="EPSG:4326",
                             name_field="Name")
    else:
        upload = kmz(tmp_path, leagues, name="leagues")
    features, report = read_layer(upload, workdir, ImportOptions(kind="league"))
    assert report.format == fmt
    assert {f.code for f in features} == set(LEAGUE_CODES)
    got = _by_code(features)
    for f in leagues:
        # KML stores decimal text: compare areas rather than exact vertices.
        assert got[f.code].geometry.symmetric_difference(f.geometry).area < 1e-6
    if fmt != "geojson":
        assert {f.name for f in features} == set(LEAGUE_CODES.values())


@pytest.mark.parametrize(("param", "frame"), [("GCJ02", "GCJ-02"), ("bd09", "BD-09")])
def test_web_map_frames_convert_traced_layers(param, frame, tmp_path, workdir, leagues):
    traced = [type(f)(f.feature_id, f.code, f.name, from_cgcs2000(f.geometry, frame))
              for f in leagues[:2]]
    assert _max_vertex_shift(traced[0].geometry, leagues[0].geometry) > 1e-3  # hundreds of m
    upload = write_layer(tmp_path / "traced.geojson", traced, driver="GeoJSON")
    features, report = read_layer(upload, workdir, ImportOptions(kind="red_line", crs=param))
    assert report.crs_used == frame
    assert any(w["code"] == "web_map_frame" for w in report.warnings)
    for got, want in zip(features, leagues[:2], strict=True):
        assert _max_vertex_shift(got.geometry, want.geometry) < 1e-6


def test_projected_coordinates_declared_geographic_are_rejected(tmp_path, workdir):
    counties = county_features()
    projected = [type(f)(f.feature_id, f.code, f.name, from_cgcs2000(f.geometry, "EPSG:4525"))
                 for f in counties]
    upload = shapefile_zip(tmp_path, projected, crs=None)
    features, report = read_layer(upload, workdir, ImportOptions(kind="county", crs="EPSG:4490"))
    assert features == []
    assert {r["reason"] for r in report.rejected} == {"coordinates_out_of_range"}
    assert "坐标系" in report.rejected[0]["message"]


def test_unknown_files_and_fields_name_the_field(tmp_path, workdir, leagues):
    bad = tmp_path / "notes.txt"
    bad.write_text("hello")
    with pytest.raises(LayerFileError) as err:
        read_layer(bad, workdir, ImportOptions(kind="league"))
    assert err.value.field == "file"
    upload = write_layer(tmp_path / "l.geojson", leagues, driver="GeoJSON", code_field="foo")
    with pytest.raises(LayerFileError) as err:
        read_layer(upload, workdir, ImportOptions(kind="league"))
    assert err.value.field == "code_field" and "foo" in err.value.message
    features, _ = read_layer(upload, workdir, ImportOptions(kind="league", code_field="foo"))
    assert len(features) == 12
    with pytest.raises(LayerError) as err:
        read_layer(upload, workdir, ImportOptions(kind="volcano"))
    assert err.value.field == "kind"


def test_zip_slip_is_refused(tmp_path, workdir):
    upload = tmp_path / "evil.zip"
    with zipfile.ZipFile(upload, "w") as zf:
        zf.writestr("../../etc/x.shp", b"")
    with pytest.raises(LayerFileError) as err:
        read_layer(upload, workdir, ImportOptions(kind="league"))
    assert "不安全" in err.value.message


def test_streams_in_batches(tmp_path, workdir):
    counties = county_features()
    gpkg = write_layer(tmp_path / "c.gpkg", counties, driver="GPKG", layer="c")
    imp = LayerImport.open(gpkg, workdir, ImportOptions(kind="county", batch_size=4))
    seen: list[int] = []
    batches = list(imp.batches(progress=seen.append))
    assert [len(b) for b in batches] == [4, 4, 1]
    assert seen == [4, 4, 1]
    assert [f.feature_id for b in batches for f in b] == list(range(9))
    report = imp.finish()
    assert report.features_read == 9
    assert json.loads(json.dumps(report.to_dict()))["feature_count"] == 9


def test_attributes_are_kept_json_ready(tmp_path, workdir, leagues):
    upload = write_layer(Path(tmp_path) / "l.gpkg", leagues, driver="GPKG")
    features, _ = read_layer(upload, workdir, ImportOptions(kind="league"))
    assert features[0].attributes == {"code": features[0].code, "name": features[0].name}

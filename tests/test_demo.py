from sktl import demo


def test_demo_prints_table_and_saves_plot(tmp_path, capsys):
    out = tmp_path / "demo.png"
    demo.main(["--plot", str(out)])
    printed = capsys.readouterr().out
    assert "| no adaptation |" in printed and "| CORAL |" in printed
    assert out.stat().st_size > 10_000

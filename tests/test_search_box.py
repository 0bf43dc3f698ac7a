"""The search box's own keys: Escape empties it, Down asks for the results, the rest are a line edit's."""

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from desktop.ui.search_box import SearchBox


def press(box: SearchBox, key, modifiers=Qt.KeyboardModifier.NoModifier) -> bool:
    """Send one key press to the box; whether the box kept it (an ignored one goes on to the window)."""
    event = QKeyEvent(QEvent.Type.KeyPress, key, modifiers)
    QApplication.sendEvent(box, event)
    return event.isAccepted()


def test_escape_empties_the_box_and_an_empty_box_passes_it_on(qtbot):
    box = SearchBox("Search")
    qtbot.addWidget(box)
    box.setText("jazz")
    assert press(box, Qt.Key.Key_Escape) and box.text() == ""
    assert not press(box, Qt.Key.Key_Escape)  # nothing to empty: a dialog or the window may want it


def test_down_asks_for_the_results_and_other_keys_type(qtbot):
    box = SearchBox("Search")
    qtbot.addWidget(box)
    downs = []
    box.down_pressed.connect(lambda: downs.append(True))
    qtbot.keyClicks(box, "rock")
    press(box, Qt.Key.Key_Down)
    assert downs == [True] and box.text() == "rock"
    press(box, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)  # not plain Down: the line edit's
    assert downs == [True]
    assert box.isClearButtonEnabled()

"""The library table's genre cell editor: an editable list of the genres a correction may take."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QStyledItemDelegate


class GenreDelegate(QStyledItemDelegate):
    """In-place genre editing: an editable combo of the model's labels plus free text."""

    def __init__(self, labels_source, parent=None):
        super().__init__(parent)
        self.labels_source = labels_source

    def createEditor(self, parent, option, index):  # noqa: N802
        combo = QComboBox(parent)
        combo.setEditable(True)
        combo.addItems(self.labels_source())
        return combo

    def setEditorData(self, editor, index):  # noqa: N802
        editor.setCurrentText(index.data(Qt.ItemDataRole.EditRole) or "")

    def setModelData(self, editor, model, index):  # noqa: N802
        model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)

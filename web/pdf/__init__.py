"""Everything that writes a PDF: the toolkit (fonts, text, tables, page furniture), the case dossier and its
sections, the process diagram drawn for paper, and the statistics report."""

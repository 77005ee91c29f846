/* percorso.js: written with the website snippet */

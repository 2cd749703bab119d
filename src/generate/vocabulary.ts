/**
 * Word lists for generated users, songs and artists. User names, metro areas,
 * user agents, artist places (with their coordinates) and the hourly profile
 * are taken from the real sample (data/sparkify-sample) so generated rows look
 * like the course's; titles and artist names are recombined from common words.
 */

const words = (s: string): readonly string[] => s.trim().split(/\s+/);
const lines = (s: string): readonly string[] =>
  s
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);

export const FEMALE_NAMES = words(`Kaylee Sylvie Stefany Marina Makinley Lily Kynnedi Tegan Aleena Chloe Ava Ayleen
  Celeste Anabelle Sara Ayla Cecilia Ann Maia Jordan Magdalene Emily Katherine Shakira Layla Kate Molly Sienna
  Jacqueline Evelin Avery Jizelle Ryann Jordyn Kinsley Hayden Adelyn Hannah Kimber Cierra Alivia Andrea Jaleah
  Amiya Cienna Gianna`);

export const MALE_NAMES = words(`Walter Ryan Jayden Kevin Aiden Mohammad Adler Samuel Joseph Austin Kaleb Isaac
  Connar Theodore Jahiem Rylan Brantley Braden Martin Bronson Jacob Noah Harper Devin Carlos Wyatt Morris Dominick
  Matthew Colm Brayden Tucker Zachary James Dustin Preston Elijah Christian Sean`);

export const LAST_NAMES = words(`Frye Summers Cruz Smith Fox White Arellano Sutton Hess Jones Koch Sanchez Levine
  Kirby Rodriguez Cuevas Barrera Gonzalez Gutierrez Robinson Rosales Wise Cook Valdez Williams Simpson Moreno
  Johnson Owens Banks Miles Graves Burke George Burns Hicks West Herman Roth Parker Harris Klein Benson Chavez
  Barrett Larson Hunt Bell Griffin Harrell Taylor Colon Carter Lynch Ayala Watkins Benjamin Scott Gilmore Powell
  Norris Ramirez Porter Young Brock Calhoun Santana Rogers Finley Clark Duffy Garrison Terrell Cooper Thomas
  Butler Hayes Davidson Freeman Lee Sanders Davis Martinez Wilson`);

export const USER_LOCATIONS = lines(`
  San Francisco-Oakland-Hayward, CA
  Portland-South Portland, ME
  Lansing-East Lansing, MI
  Chicago-Naperville-Elgin, IL-IN-WI
  Atlanta-Sandy Springs-Roswell, GA
  Waterloo-Cedar Falls, IA
  Lake Havasu City-Kingman, AZ
  San Jose-Sunnyvale-Santa Clara, CA
  Tampa-St. Petersburg-Clearwater, FL
  New York-Newark-Jersey City, NY-NJ-PA
  Phoenix-Mesa-Scottsdale, AZ
  Washington-Arlington-Alexandria, DC-VA-MD-WV
  New Orleans-Metairie, LA
  Houston-The Woodlands-Sugar Land, TX
  Sacramento--Roseville--Arden-Arcade, CA
  Philadelphia-Camden-Wilmington, PA-NJ-DE-MD
  Minneapolis-St. Paul-Bloomington, MN-WI
  Los Angeles-Long Beach-Anaheim, CA
  Dallas-Fort Worth-Arlington, TX
  Detroit-Warren-Dearborn, MI
  Nashville-Davidson--Murfreesboro--Franklin, TN
  Seattle-Tacoma-Bellevue, WA
  Miami-Fort Lauderdale-West Palm Beach, FL
  San Antonio-New Braunfels, TX
  Salt Lake City, UT
  St. Louis, MO-IL
  Birmingham-Hoover, AL
  Indianapolis-Carmel-Anderson, IN
  Milwaukee-Waukesha-West Allis, WI
  Raleigh, NC
  Richmond, VA
  San Diego-Carlsbad, CA
  Columbia, SC
  Eugene, OR
  Lubbock, TX
  Cedar Rapids, IA
  Winston-Salem, NC
  Myrtle Beach-Conway-North Myrtle Beach, SC-NC
  Red Bluff, CA
  London, KY`);

/** Most common first; the ones with a comma are written wrapped in literal quotes. */
export const USER_AGENTS = lines(`
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.78.2 (KHTML, like Gecko) Version/7.0.6 Safari/537.78.2
  Mozilla/5.0 (Windows NT 5.1; rv:31.0) Gecko/20100101 Firefox/31.0
  Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36
  Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.94 Safari/537.36
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:31.0) Gecko/20100101 Firefox/31.0
  Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36
  Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.77.4 (KHTML, like Gecko) Version/7.0.5 Safari/537.77.4
  Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0
  Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36
  Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko) Version/7.0 Mobile/11D257 Safari/9537.53
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10_0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.143 Safari/537.36
  Mozilla/5.0 (Windows NT 6.3; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/36.0.1985.125 Safari/537.36
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/37.0.2062.94 Safari/537.36
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10.9; rv:30.0) Gecko/20100101 Firefox/30.0
  Mozilla/5.0 (Windows NT 6.1; WOW64; rv:32.0) Gecko/20100101 Firefox/32.0
  Mozilla/5.0 (Windows NT 6.1; rv:31.0) Gecko/20100101 Firefox/31.0
  Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/35.0.1916.153 Safari/537.36
  Mozilla/5.0 (Windows NT 6.1; WOW64; Trident/7.0; rv:11.0) like Gecko
  Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10) AppleWebKit/538.46 (KHTML, like Gecko) Version/8.0 Safari/538.46
  Mozilla/5.0 (compatible; MSIE 10.0; Windows NT 6.2; WOW64; Trident/6.0)
  Mozilla/5.0 (X11; Linux x86_64; rv:31.0) Gecko/20100101 Firefox/31.0`);

/** Events per UTC hour in the sample, 00:00 first. */
export const HOURLY = [185, 201, 157, 130, 159, 206, 230, 219, 246, 311, 356, 391, 368, 415, 504, 577, 626, 572, 579, 431, 397, 326, 247, 223];

/** Artist places as the song files spell them, with the coordinates they carry. */
export const PLACES: readonly (readonly [number, number, string])[] = [
  [-13.442, -41.9952, 'Noci (BA)'], [27.94017, -82.32547, 'Brandon'], [28.53823, -81.37739, 'Orlando, FL'],
  [30.08615, -94.10158, 'Beaumont, TX'], [32.67828, -83.22295, 'Georgia'], [32.74863, -97.32925, 'Fort Worth, TX'],
  [34.31109, -94.02978, 'Mineola, AR'], [35.14968, -90.04892, 'Memphis, TN'], [35.21962, -80.01955, 'North Carolina'],
  [36.16778, -86.77836, 'Nashville, TN.'], [37.16793, -95.84502, 'United States'], [37.77916, -122.42005, 'California - SF'],
  [37.83721, -94.35868, 'Nevada, MO'], [38.8991, -77.029, 'Washington'], [39.49974, -111.54732, 'Utah'],
  [40.7038, -73.83168, 'Queens, NY'], [40.71455, -74.00712, 'New York, NY'], [40.73197, -74.17418, 'Newark, NJ'],
  [40.79086, -73.96644, 'New York, NY [Manhattan]'], [40.82624, -74.47995, 'Morris Plains, NJ'],
  [40.99471, -77.60454, 'Pennsylvania'], [41.88415, -87.63241, 'Chicago, IL'], [43.64856, -79.38533, 'Toronto, Ontario, Canada'],
  [45.80726, 15.9676, 'Zagreb Croatia'], [51.50632, -0.12714, 'London, England'], [56.27609, 9.51695, 'Denmark'],
  [8.4177, -80.11278, 'Panama'], [34.05349, -118.24532, 'Los Angeles, CA'], [19.40904, -99.14454, 'Mexico City'],
  [48.85692, 2.34121, 'Paris, France'], [64.14519, -21.92434, 'Reykjavik, Iceland'], [-23.56287, -46.65453, 'S\u00e3o Paulo, Brazil'],
];

/** Places that appear in song files without coordinates. */
export const PLACES_WITHOUT_COORDINATES = lines(`
  Beverly Hills, CA
  Burlington, Ontario, Canada
  California - LA
  Gainesville, FL
  Hamilton, Ohio
  Hamtramck, MI
  Houston, TX
  Ohio
  Seattle, Washington USA
  Wisner, LA
  Detroit, MI
  Montr\u00e9al, Qu\u00e9bec`);

export const ADJECTIVES = words(`Blue Broken Burning Cold Crazy Dark Electric Empty Endless Golden Green Happy Heavy
  Hollow Last Little Lonely Lost Lucky Midnight New Old Quiet Red Restless Sad Secret Silent Silver Simple Slow
  Strange Sweet Wild Young Velvet Holy Wicked Lazy Bitter Brave`);

export const NOUNS = words(`Angel Baby Bird Blood Boy Bridge City Dance Dream Dreams Eyes Fire Flower Friend Ghost
  Girl Heart Highway Home Honey Island Kiss Light Love Lover Man Moon Morning Mountain Night Ocean Rain River Road
  Rose Sky Soul Star Stars Storm Summer Sun Sunshine Thunder Time Town Train Wind Window Woman World Years Machine
  Song Radio Lights Shadows Streets Wolves Horses Kings Sisters Brothers`);

export const VERBS = words(`Believe Breathe Burn Call Come Cry Dance Dream Fall Fly Forget Go Hold Know Leave Let
  Live Love Move Remember Run Say Shine Stay Stop Take Talk Wait Walk Want`);

/** Phrases with an apostrophe, the character the logs sometimes lost to `\u0019`. */
export const APOSTROPHE_PHRASES = lines(`
  I Didn't Mean To
  Don't Let Me Down
  It's Not Over
  Can't Stop Now
  Lovin' You
  You're The One
  We're Going Home
  Ain't No Sunshine
  Rock 'n' Roll
  Nothin' But Time
  She's Gone
  Won't Back Down`);

export const VERSIONS = lines(`
  (Album Version)
  (LP Version)
  (Radio Edit)
  (Remix)
  (Live)
  (Instrumental Version)
  (Acoustic)
  (2006 Digital Remaster)
  (Extended Mix)
  (Demo)`);

/** Non-ASCII words for titles and artists (written as `\u` escapes, or mangled in the logs). */
export const NON_ASCII_WORDS = words(`Caf\u00e9 Coraz\u00f3n Ma\u00f1ana Ni\u00f1o D\u00e9j\u00e0 F\u00fcr \u00dcber Se\u00f1orita No\u00ebl
  Gar\u00e7on Canci\u00f3n \u00c9t\u00e9 R\u00eave Sue\u00f1o Pr\u00f3fugos Repr\u00e9sente Mot\u00f6rhead Bj\u00f6rk R\u00f3s
  Beyonc\u00e9 J\u00fcrgen Zo\u00eb R\u00f3is\u00edn Ana\u00efs \u00c5sa St\u00e9phane Fran\u00e7oise H\u00e9roes M\u00fcller
  Jos\u00e9 H\u00e9l\u00e8ne R\u00f6yksopp K\u00f8benhavn T\u014dky\u014d Andr\u00e9 Soci\u00e9t\u00e9 Solim\u00f5es \u00bfD\u00f3nde`);

export const ARTIST_WORDS = words(`Band Brothers Collective Crew Experience Orchestra Project Quartet Sound System
  Trio Ensemble Club Boys Girls Kids Family Society`);
